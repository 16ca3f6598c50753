// optbench/queue: runs trained by workers on other machines, through BullMQ on Redis.
export { connectQueue, type QueueClient, type QueueClientOptions } from './client.js';
export { parseQueueUrl, redactUrl } from './connection.js';
export { estimateRunSeconds } from './cost.js';
export { queueOrder, simulate, type Simulation } from './simulate.js';
export { cleanQueue, queueStatus, type QueueStatus } from './status.js';
export { queueTrainer, submitRuns, type QueueTrainerOptions, type SubmitOptions } from './trainer.js';
export { startWorker, type WorkerConfig, type WorkerHandle } from './worker.js';
