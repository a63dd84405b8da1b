// Plugin: load balancing. Each service has a weighted round-robin balancer over its targets.
// balancer.next() hands out a resource for a target, the same one for every request of a
// client connection; muxHTTP keyed by that resource shares upstream connections among the
// clients given the same target (and never sends a request to another target's connection,
// the tutorial's "connection sharing problem"). Requests whose route has no service go on to
// the next plugin.
((
  config = JSON.decode(pipy.load('config.json')),
  services = Object.fromEntries(
    Object.entries(config.services).map(
      ([name, targets]) => [name, new algo.RoundRobinLoadBalancer(targets)]
    )
  ),
) => pipy({
  _target: undefined,
})

.import({
  __route: 'proxy',
})

.pipeline()
  .branch(
    () => Boolean(_target = services[__route]?.next?.()), (
      $=>$.muxHTTP(() => _target).to(
        $=>$.connect(() => _target.id, config.connect)
      )
    ), (
      $=>$.chain()
    )
  )

)()
