import type { StepDefinition } from '../api.js';
import drainManagers from './drain-managers.js';
import failoverLeader from './failover-leader.js';
import failoverWorkers from './failover-workers.js';
import http from './http.js';
import init from './init.js';
import joinManagers from './join-managers.js';
import joinWorkers from './join-workers.js';
import labels from './labels.js';
import loadImages from './load-images.js';
import measureElection from './measure-election.js';
import nodeRoles from './node-roles.js';
import partitionMinority from './partition-minority.js';
import partitionWorker from './partition-worker.js';
import publishedPort from './published-port.js';
import quorumLoss from './quorum-loss.js';
import rollingUpdate from './rolling-update.js';
import network from './network.js';
import stack from './stack.js';
import stackHealthy from './stack-healthy.js';
import { configStep, secretStep } from './swarm-data.js';
import volumeSurvives from './volume-survives.js';

/** Every built-in step by the name scenarios use. */
export const builtinSteps: Record<string, StepDefinition> = Object.fromEntries(
  [loadImages, init, joinManagers, joinWorkers, drainManagers, labels, nodeRoles, rollingUpdate, publishedPort, failoverWorkers, failoverLeader, network, secretStep, configStep, stack, stackHealthy, http, volumeSurvives, partitionMinority, quorumLoss, partitionWorker, measureElection].map((step) => [
    step.name,
    step,
  ]),
);
