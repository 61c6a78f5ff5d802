export { buildApp, type AppDeps } from './app.ts';
export { startApi, type RunningApi } from './main.ts';
export {
  loadConfig,
  requiredEnvironment,
  environmentVariables,
  EMBEDDED_CREDENTIALS,
  type ApiConfig,
} from './config.ts';
