export { MESSAGING_RULES, type RateLimitResult, type RateLimitStore, type Rule } from './limiter.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { RedisStore, type RedisStoreOptions } from './redis-store.js';
export { ResilientStore, type FallbackOptions, type ResilientStoreOptions } from './resilient-store.js';
