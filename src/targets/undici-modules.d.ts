// Types of the undici modules src/targets/undici-pool.ts reaches by path (undici types its index only).
declare module 'undici/lib/api/index.js' {
  /** The request methods undici's index gives every dispatcher. */
  const api: Readonly<Record<string, unknown>>;
  export default api;
}
declare module 'undici/lib/dispatcher/dispatcher.js' {
  import type { Dispatcher } from 'undici';

  const DispatcherClass: typeof Dispatcher;
  export default DispatcherClass;
}
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';

  const PoolClass: typeof Pool;
  export default PoolClass;
}
