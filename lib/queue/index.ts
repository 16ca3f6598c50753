// The queue layer: runs trained by workers on other machines, through BullMQ on Redis.
export { connectQueue, type QueueClient, type QueueClientOptions } from './client.js';
export { parseQueueUrl, redactUrl } from './connection.js';
export { estimateRunSeconds, queuePriority, runSteps, STEP_SECONDS } from './cost.js';
export { queueOrder, simulate, type Simulation } from './simulate.js';
export { compareIdentity, dataIdentity } from './data-identity.js';
export { decodeJob, jobFor, type DataIdentity, type JobData } from './job.js';
export { cleanQueue, queueStatus, type QueueStatus } from './status.js';
export { identityOf, queueTrainer, submitRuns, type QueueTrainerOptions, type SubmitOptions } from './trainer.js';
export { startWorker, type WorkerConfig, type WorkerHandle } from './worker.js';
