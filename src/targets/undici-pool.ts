/**
 * undici's connection pool alone, for the Node builds (scripts/build.ts resolves `undici` to
 * this): the engine client uses `Pool` only, and undici's index loads its whole fetch,
 * cookies, WebSocket, cache and mock code with it, a tenth of a cold start. undici has no
 * `exports` map, so its modules can be reached by path. As its index does, the request
 * methods (`request`, `stream`, `pipeline`, `upgrade`, `connect`) are given to every
 * dispatcher: the pool module alone has only `dispatch`.
 */

import api from 'undici/lib/api/index.js';
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import PoolModule from 'undici/lib/dispatcher/pool.js';

Object.assign(Dispatcher.prototype, api);

export const Pool = PoolModule;
