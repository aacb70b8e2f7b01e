/** The HTTP API and WebSocket gateway: buildServer() plus the types other parts build against. */
export { buildServer, API_PREFIX, OPENAPI_PATH, DOCS_PATH, type BuildServerOptions, type ApiRoute } from './server.js';
export { allowAll, ROUTE_ACCESS, type AccessPolicy, type RouteAccess } from './access.js';
export { ApiError, API_ERRORS, PROBLEM_CONTENT_TYPE, problem, type ApiErrorCode, type Problem, type ProblemItem } from './errors.js';
export type { DeviceWire, EntityWire, StateWire } from './wire.js';
export type { ClientMessage, ServerMessage, WsErrorCode, MessageId } from './ws/messages.js';
export type { WsGateway, WsGatewayOptions, WsGatewayStats } from './ws/gateway.js';
export type { FrameTimer } from './ws/client.js';
