import { isWorker, optionPath, parseConstraint, satisfies, schedulableNodes, stringList, type Constraint } from '../topology.js';
import type { LintCheck, LintFinding } from '../types.js';

export const swarmNoSchedulableNode: LintCheck = {
  check({ scenario, builtin, optionsOf }) {
    const findings: LintFinding[] = [];
    const nodes = schedulableNodes(scenario);
    for (const entry of scenario.verify) {
      // A built-in that runs a service has placement constraints among its options (with a default).
      const options = builtin(entry) ? optionsOf(entry) : undefined;
      const given = stringList(options?.constraints);
      if (!options || !given) continue;
      const constraints = given.map(parseConstraint).filter((c): c is Constraint => c !== undefined);
      const eligible = nodes.filter((node) => constraints.every((c) => satisfies(node, c)));
      const shown = constraints.length > 0 ? given.join(', ') : 'no constraints';
      const path = optionPath(entry, 'constraints');
      if (entry.step === 'swarm/failover-workers') {
        const workers = eligible.filter(isWorker);
        if (workers.length < 2) {
          findings.push({
            path,
            message: `swarm/failover-workers needs 2 schedulable workers (one to stop, one to take its tasks); ${shown} leaves ${workers.length}.`,
            hint: 'Add workers (group swarm-worker) that match the constraints, or loosen the constraints.',
          });
        }
      } else if (entry.step === 'swarm/published-port' && eligible.length > 0 && typeof options.replicas === 'number' && options.replicas > eligible.length) {
        // mode=host publishing binds the port on the node: at most one task per node.
        findings.push({
          path: optionPath(entry, 'replicas'),
          message: `swarm/published-port runs one task per node (mode=host), so ${options.replicas} replicas need ${options.replicas} nodes; ${shown} matches ${eligible.length}.`,
          hint: `Set replicas to at most ${eligible.length}, or add nodes that match.`,
        });
      } else if (eligible.length === 0) {
        findings.push({
          path,
          message: `No node can run the service of ${entry.step ?? 'this step'}: ${shown} matches no schedulable node.`,
          hint: nodes.length === 0
            ? 'Every node is drained: add a worker (group swarm-worker) or remove swarm/drain-managers.'
            : 'Add a node that matches (e.g. a platform in swarm-worker), or change "constraints".',
        });
      }
    }
    return findings;
  },
};
