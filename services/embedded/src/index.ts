export { startEmbedded, type EmbeddedSystem } from './startEmbedded.ts';
