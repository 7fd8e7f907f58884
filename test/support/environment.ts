import { inject } from 'vitest';

// Runs before each test file is imported, so handler modules that read their configuration
// at load time (like a Lambda cold start) see the test's DynamoDB Local.
process.env.DYNAMODB_ENDPOINT = inject('dynamoDbEndpoint');
process.env.TABLE_NAME = 'stampede-test';
process.env.STAMPEDE_ALLOW_UNSAFE = '0';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
