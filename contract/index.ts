// The MQTT contract between the site agent and the central (docs/mqtt.md): topics, payload and
// command schemas with their TypeScript types, builders and validators. Imports nothing of the
// agent's or the central's.
export * from './envelope';
export { SITE_ID_PATTERN } from './fields';
export * from './topics';
export * from './commands';
export * from './relay-target';
export * from './payloads/state';
export * from './payloads/birth';
export * from './payloads/meta';
export * from './payloads/status';
export * from './payloads/event';
export * from './payloads/metrics';
export * from './payloads/reply';
export { PAYLOAD_SCHEMAS, COMMAND_SCHEMAS, contractJsonDocuments } from './schemas';
export { validatePayload, validateCommandRequest, validateCommandArgs, describeErrors, ContractValidator, type Validation } from './validate';
