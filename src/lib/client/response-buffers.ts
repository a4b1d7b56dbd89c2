// The pool every connection takes its large response frames from (fetch responses, mostly); a
// consumer with recycleBuffers gives each back once its batches are done with (buffer-pool.ts).

import {BufferPool} from '../buffer-pool.js'

export const responseBuffers = new BufferPool()
