import { builder } from './builder.ts';
import './scalars.ts';
import './mutation-errors.ts';
import './containers.ts';
import './container-compose.ts';
import './container-config.ts';
import './container-filesystem.ts';
import './container-health.ts';
import './container-host-config.ts';
import './container-logs.ts';
import './container-mounts.ts';
import './container-networks.ts';
import './container-ports.ts';
import './container-processes.ts';
import './container-stats.ts';
import './images.ts';
import './volumes.ts';
import './networks.ts';
import './system.ts';
import './container-lifecycle.ts';
import './exec.ts';
import './files.ts';
import './image-lifecycle.ts';
import './image-build.ts';
import './registries.ts';
import './distribution.ts';
import './plugins.ts';
import './events.ts';
import './live-containers.ts';
import './live-updates.ts';
import './live-progress.ts';
import './viewer.ts';
import './swarm.ts';
import './swarm-nodes.ts';
import './services.ts';
import './tasks.ts';
import './secrets.ts';
import './stacks.ts';

/**
 * The whole dockergraph schema, in the order the domain files define it. Not sorted here
 * (Pothos sorts unless told `sortSchema: false`): sorting builds every type a second time,
 * a sixth of the schema build in a cold start; the printed SDL (scripts/print-schema.ts) is
 * sorted instead.
 */
export const schema = builder.toSchema({ sortSchema: false });
