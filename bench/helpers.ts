/** The `POST /containers/create` body of a bench container: the shape both benches list. */
export function benchContainerBody(run: string, set: string) {
  return {
    Image: 'dockergraph/busybox:latest',
    Cmd: ['sleep', '3600'],
    Labels: { 'dockergraph.bench': run, 'dockergraph.bench.set': set },
    ExposedPorts: { '80/tcp': {} },
    HostConfig: { Binds: [`${run}-${set}:/data`] },
  };
}
