import { builder } from './builder.ts';
import './scalars.ts';
import './mutation-errors.ts';
import './containers.ts';
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

/** The whole dockergraph schema. */
export const schema = builder.toSchema({ sortSchema: true });
