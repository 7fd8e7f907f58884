import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { tableSchema } from '../table-schema';

export interface StampedeTableProps {
  /**
   * A protected table has deletion protection and is retained when the stack is deleted;
   * otherwise it is deleted with the stack (a sandbox stage).
   */
  readonly protected: boolean;
}

/** CDK attribute types for the schema's DynamoDB type letters. */
const attributeTypes = { S: AttributeType.STRING, N: AttributeType.NUMBER, B: AttributeType.BINARY } as const;

/**
 * The one Stampede table, built from lib/table-schema.ts (the same definition the local
 * DynamoDB table is created from). On-demand capacity, point-in-time recovery, the TTL
 * attribute that cleans up finished reservations, the sweep index and the stream.
 */
export class StampedeTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: StampedeTableProps) {
    super(scope, id);
    const { partitionKey, sortKey } = tableSchema;
    this.table = new Table(this, 'Table', {
      partitionKey: { name: partitionKey.name, type: attributeTypes[partitionKey.type] },
      sortKey: { name: sortKey.name, type: attributeTypes[sortKey.type] },
      billingMode: BillingMode[tableSchema.billingMode],
      timeToLiveAttribute: tableSchema.timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.protected,
      removalPolicy: props.protected ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      stream: StreamViewType[tableSchema.streamViewType],
    });
    for (const index of tableSchema.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey.name, type: attributeTypes[index.partitionKey.type] },
        sortKey: { name: index.sortKey.name, type: attributeTypes[index.sortKey.type] },
        projectionType: ProjectionType[index.projection],
      });
    }
  }
}
