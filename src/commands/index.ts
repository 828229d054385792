export type { CommandChannel, CommandTopics } from './command-channel.js';
export { CommandProcessor, type CommandProcessorDeps } from './command-processor.js';
export { CommandService, type CommandServiceDeps } from './command-service.js';
export { COMMANDS, type CommandName, type CommandRequest, type CommandResponse, commandRequestSchema } from './command-schema.js';
