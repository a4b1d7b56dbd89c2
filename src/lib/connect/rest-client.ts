/**
 * A client of Kafka Connect's REST API (ours or Apache Kafka's), for `kcli connectors`. Error
 * answers ({error_code, message}) become ConnectApiError with the HTTP status; an unreachable
 * worker or a timeout is a SystemError / TimeoutError, as the other commands report them.
 */
import {KcliError, SystemError, TimeoutError} from '../cli/errors.js'

export class ConnectApiError extends KcliError {
  constructor(readonly status: number, message: string) {
    super(`${message} (HTTP ${status})`, status === 404 ? 'not-found' : status === 400 || status === 409 ? 'usage' : 'system', 1)
  }

  override toJson() {
    return {...super.toJson(), http: {status: this.status}}
  }
}

export class ConnectRestClient {
  readonly base: string
  constructor(url: string, readonly timeoutMs = 30_000) {
    this.base = url.replace(/\/+$/, '')
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<{status: number; body: T}> {
    let response: Response
    try {
      response = await fetch(this.base + path, {
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: body === undefined ? {accept: 'application/json'} : {accept: 'application/json', 'content-type': 'application/json'},
        method,
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (error) {
      const e = error as Error & {cause?: {code?: string}}
      if (e.name === 'TimeoutError') throw new TimeoutError(`${method} ${this.base}${path}`, this.timeoutMs)
      throw new SystemError(`cannot reach the Connect REST API at ${this.base}: ${e.cause?.code ?? e.message}`, e.cause?.code, {cause: error})
    }
    const text = await response.text()
    let parsed: unknown = null
    if (text !== '') {
      try { parsed = JSON.parse(text) } catch { parsed = text }
    }
    if (response.status >= 400) {
      const message = parsed && typeof parsed === 'object' && 'message' in parsed ? String((parsed as {message: unknown}).message) : `${response.statusText}`
      throw new ConnectApiError(response.status, message)
    }
    return {body: parsed as T, status: response.status}
  }

  async get<T>(path: string): Promise<T> { return (await this.request<T>('GET', path)).body }
}

export interface ConnectorStatusBody {
  name: string
  connector: {state: string; worker_id: string; trace?: string}
  tasks: Array<{id: number; state: string; worker_id: string; trace?: string}>
  type: string
}

export interface ConnectorInfoBody {name: string; config: Record<string, string>; tasks: Array<{connector: string; task: number}>; type: string}

export const enc = encodeURIComponent
