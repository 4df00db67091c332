import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  BUDGET_TABLE,
  CONTROL_TABLE,
  ERASURE_REQUESTS_TABLE,
  type KeyAttribute,
  LINEAGE_TABLE,
  type TableDefinition,
} from '../../functions/adapters/aws/table-layout.ts';

export interface PipelineTablesProps {
  /** Customer-managed key the tables are encrypted with. */
  readonly encryptionKey: kms.IKey;
  /**
   * What happens to the tables when the stack is deleted (lineage is an audit record).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Refuse DeleteTable while the table exists.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * The DynamoDB tables, built from the shared layout in functions/adapters/aws/table-layout.ts
 * (the adapters and the emulator tests use the same definitions): on-demand, point-in-time
 * recovery, the data CMK, deletion protection.
 *
 * `Table` rather than `TableV2`: TableV2 with a customer-managed key renders its replica's key
 * per region and cannot be synthesised without a concrete region, and the stack must synth
 * offline, environment-agnostic. No table here needs global-table replicas.
 */
export class PipelineTables extends Construct {
  readonly lineage: dynamodb.Table;
  readonly budget: dynamodb.Table;
  readonly control: dynamodb.Table;
  readonly erasureRequests: dynamodb.Table;

  constructor(scope: Construct, id: string, props: PipelineTablesProps) {
    super(scope, id);
    const make = (definition: TableDefinition) => {
      const table = new dynamodb.Table(this, definition.id, {
        partitionKey: attribute(definition.partitionKey),
        ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
        ...(definition.timeToLiveAttribute ? { timeToLiveAttribute: definition.timeToLiveAttribute } : {}),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: props.encryptionKey,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: props.deletionProtection ?? true,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      for (const g of definition.globalSecondaryIndexes) {
        table.addGlobalSecondaryIndex({
          indexName: g.indexName,
          partitionKey: attribute(g.partitionKey),
          ...(g.sortKey ? { sortKey: attribute(g.sortKey) } : {}),
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      return table;
    };
    this.lineage = make(LINEAGE_TABLE);
    this.budget = make(BUDGET_TABLE);
    this.control = make(CONTROL_TABLE);
    this.erasureRequests = make(ERASURE_REQUESTS_TABLE);
  }

  /** Environment variables that carry the table names to the functions. */
  environment(): Record<string, string> {
    return {
      [LINEAGE_TABLE.envVar]: this.lineage.tableName,
      [BUDGET_TABLE.envVar]: this.budget.tableName,
      [CONTROL_TABLE.envVar]: this.control.tableName,
      [ERASURE_REQUESTS_TABLE.envVar]: this.erasureRequests.tableName,
    };
  }

  /** ARNs of a table's indexes, by name (no wildcard). */
  indexArns(table: dynamodb.Table, definition: TableDefinition): string[] {
    return definition.globalSecondaryIndexes.map((g) => `${table.tableArn}/index/${g.indexName}`);
  }
}

function attribute(a: KeyAttribute): dynamodb.Attribute {
  const type = { S: dynamodb.AttributeType.STRING, N: dynamodb.AttributeType.NUMBER, B: dynamodb.AttributeType.BINARY }[a.type];
  return { name: a.name, type };
}
