import { inject } from 'vitest';

// Runs before each test file is imported, so handler modules that read their configuration
// at load time (like a Lambda cold start) see the test's DynamoDB Local.
process.env.DYNAMODB_ENDPOINT = inject('dynamoDbEndpoint');
process.env.TABLE_NAME = 'stampede-test';
process.env.STAMPEDE_ALLOW_UNSAFE = '0';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
// The race tests queue thousands of buyers in one process on purpose; they test correctness,
// not load shedding (tested on its own), so nobody is turned away for waiting.
process.env.STAMPEDE_MAX_QUEUE_WAIT_MS = '600000';
// Tests that check exact counts right after a change read fresh; the bounded staleness of sold-out
// answers and of the event page (1 s by default) has tests of its own that set it.
process.env.STAMPEDE_SOLD_OUT_STALENESS_MS = '0';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
