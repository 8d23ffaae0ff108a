import {
  type AdmissionFinding,
  type AdmissionLevel,
  type AdmissionLookups,
  type AdmissionSettings,
  type ContainerCreateShape,
  reviewContainerCreate,
} from './admission.ts';

/**
 * Admission of Swarm services (`POST /services/create`, `POST /services/{id}/update`):
 * every task of a service is a container the swarm creates on some node, so its
 * `TaskTemplate` is translated into the container-create body that container
 * would have and reviewed by the container rules, at the caller's level. Fields
 * the translation does not know are refused: a new engine field must be read
 * here before a role below `privileged` may use it.
 *
 * @module
 */

/** ServiceSpec fields that run nothing on a node: names, scheduling, ports, update order. */
const SERVICE_FIELDS = new Set([
  'Name',
  'Labels',
  'TaskTemplate',
  'Mode',
  'UpdateConfig',
  'RollbackConfig',
  'Networks',
  'EndpointSpec',
]);

/** TaskTemplate fields; `PluginSpec` (installs an engine plugin) and other runtimes are absent on purpose. */
const TASK_FIELDS = new Set([
  'ContainerSpec',
  'Resources',
  'RestartPolicy',
  'Placement',
  'Networks',
  'LogDriver',
  'ForceUpdate',
  'Runtime',
]);

/**
 * ContainerSpec fields and the container-create field each becomes (`Config`
 * fields at the top, `HostConfig` ones under it), or `plain` for those that
 * reach nothing outside the container (secrets and configs are swarm objects
 * the caller names, mounted as files).
 */
const CONTAINER_SPEC_FIELDS: Readonly<Record<string, string>> = {
  Image: 'Image',
  Labels: 'Labels',
  Command: 'Entrypoint',
  Args: 'Cmd',
  Hostname: 'Hostname',
  Env: 'Env',
  Dir: 'WorkingDir',
  User: 'User',
  TTY: 'Tty',
  OpenStdin: 'OpenStdin',
  StopSignal: 'StopSignal',
  HealthCheck: 'Healthcheck',
  ReadOnly: 'HostConfig.ReadonlyRootfs',
  Mounts: 'HostConfig.Mounts',
  Groups: 'HostConfig.GroupAdd',
  Hosts: 'HostConfig.ExtraHosts',
  Init: 'HostConfig.Init',
  Ulimits: 'HostConfig.Ulimits',
  CapabilityAdd: 'HostConfig.CapAdd',
  CapabilityDrop: 'HostConfig.CapDrop',
  Sysctls: 'HostConfig.Sysctls',
  Isolation: 'HostConfig.Isolation',
  Privileges: 'HostConfig.SecurityOpt',
  StopGracePeriod: 'plain',
  DNSConfig: 'plain',
  Secrets: 'plain',
  Configs: 'plain',
};

function recordOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function unrecognised(path: string): AdmissionFinding {
  return {
    control: 'unrecognised-field',
    message: `${path} is not recognised by the admission policy`,
  };
}

/**
 * The container-create body a task of `spec` runs as, and the findings the
 * translation itself makes (fields it does not know).
 */
export function containerBodyOfService(spec: unknown): {
  body: ContainerCreateShape;
  findings: AdmissionFinding[];
} {
  const findings: AdmissionFinding[] = [];
  const service = recordOf(spec);
  for (const key of Object.keys(service)) {
    if (!SERVICE_FIELDS.has(key)) findings.push(unrecognised(key));
  }
  const task = recordOf(service.TaskTemplate);
  for (const key of Object.keys(task)) {
    if (!TASK_FIELDS.has(key)) findings.push(unrecognised(`TaskTemplate.${key}`));
  }
  const runtime = task.Runtime;
  if (runtime !== undefined && runtime !== '' && runtime !== 'container') {
    findings.push(unrecognised(`TaskTemplate.Runtime ${JSON.stringify(runtime)}`));
  }
  const config: Record<string, unknown> = {};
  const hostConfig: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(recordOf(task.ContainerSpec))) {
    const target = CONTAINER_SPEC_FIELDS[key];
    if (target === undefined) {
      findings.push(unrecognised(`TaskTemplate.ContainerSpec.${key}`));
    } else if (target === 'HostConfig.SecurityOpt') {
      // CredentialSpec and SELinuxContext change how the kernel confines the task.
      if (Object.values(recordOf(value)).some((item) => item !== null && item !== undefined)) {
        hostConfig.SecurityOpt = [`privileges=${JSON.stringify(value)}`];
      }
    } else if (target.startsWith('HostConfig.')) {
      hostConfig[target.slice('HostConfig.'.length)] = value;
    } else if (target !== 'plain') {
      config[target] = value;
    }
  }
  // Tasks attached to the `host` network run in the node's network namespace.
  const networks = [
    ...(Array.isArray(task.Networks) ? task.Networks : []),
    ...(Array.isArray(service.Networks) ? service.Networks : []),
  ];
  const targets = networks.map((network) => String(recordOf(network).Target ?? ''));
  if (targets.includes('host')) hostConfig.NetworkMode = 'host';
  // Other networks are looked up and reviewed as a container joining them would be.
  const joined = targets.filter((target) => target !== '' && target !== 'host');
  if (joined.length > 0) {
    config.NetworkingConfig = {
      EndpointsConfig: Object.fromEntries(joined.map((target) => [target, {}])),
    };
  }
  const logDriver = recordOf(task.LogDriver);
  if (Object.keys(logDriver).length > 0) {
    hostConfig.LogConfig = { Type: logDriver.Name ?? '', Config: logDriver.Options ?? {} };
  }
  return { body: { ...config, HostConfig: hostConfig }, findings };
}

/** Reviews a ServiceSpec (create or update body) at `level`, as the containers of its tasks. */
export async function reviewServiceSpec(
  spec: unknown,
  level: AdmissionLevel,
  settings: AdmissionSettings,
  lookups: AdmissionLookups,
): Promise<AdmissionFinding[]> {
  if (level === 'privileged') return [];
  const { body, findings } = containerBodyOfService(spec);
  const taskFindings = await reviewContainerCreate(body, level, settings, lookups);
  return [
    ...findings,
    ...taskFindings.map((item) => ({ ...item, message: `tasks: ${item.message}` })),
  ];
}
