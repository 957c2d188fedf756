/** The CloudWatch Logs calls berth makes for the stack's log group. */
import type { Tags } from './types.js';

export interface LogGroup {
  name: string;
  /** The log group ARN without the trailing `:*`. */
  arn: string;
  /** undefined: never expire. */
  retentionDays?: number;
  storedBytes: number;
}

export interface LogsApi {
  describeLogGroup(name: string): Promise<LogGroup | undefined>;
  createLogGroup(name: string, tags: Tags): Promise<void>;
  putRetentionPolicy(name: string, days: number): Promise<void>;
  listTags(arn: string): Promise<Tags>;
  tagResource(arn: string, tags: Tags): Promise<void>;
  deleteLogGroup(name: string): Promise<void>;
}
