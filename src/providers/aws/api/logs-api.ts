/** The CloudWatch Logs calls berth makes: the stack's log group, and the task logs in it. */
import type { Tags } from './types.js';

export interface LogGroup {
  name: string;
  /** The log group ARN without the trailing `:*`. */
  arn: string;
  /** undefined: never expire. */
  retentionDays?: number;
  storedBytes: number;
}

export interface LogEvent {
  /** Milliseconds since the epoch. */
  timestamp: number;
  message: string;
}

export interface GetLogEventsInput {
  group: string;
  stream: string;
  /** The previous page's nextForwardToken; absent for the first page. */
  nextToken?: string;
  /** true: read forward from the oldest event (how berth follows a stream). */
  startFromHead: boolean;
  /** Events per page (CloudWatch's default and maximum: 10,000). */
  limit?: number;
}

export interface LogEventsPage {
  events: LogEvent[];
  /** The same token you passed in once the end of the stream is reached. */
  nextForwardToken?: string;
}

export interface LogsApi {
  /** One page of a stream; undefined while the stream (or its group) does not exist. */
  getLogEvents(input: GetLogEventsInput): Promise<LogEventsPage | undefined>;
  describeLogGroup(name: string): Promise<LogGroup | undefined>;
  createLogGroup(name: string, tags: Tags): Promise<void>;
  putRetentionPolicy(name: string, days: number): Promise<void>;
  listTags(arn: string): Promise<Tags>;
  tagResource(arn: string, tags: Tags): Promise<void>;
  deleteLogGroup(name: string): Promise<void>;
}
