/** Every request handler the broker registers; ApiVersions advertises exactly these. */
import {apiVersions} from './api-versions.js'
import {createTopics} from './create-topics.js'
import {describeConfigs} from './describe-configs.js'
import type {ApiHandler} from './handler.js'
import {metadata} from './metadata.js'

export const HANDLERS: readonly ApiHandler[] = [apiVersions, metadata, createTopics, describeConfigs] as ApiHandler[]
