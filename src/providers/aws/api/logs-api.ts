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

export interface FilterLogEventsInput {
  group: string;
  /** Exact stream names, at most 100 (FilterLogEvents' limit); a missing one is an error. */
  streams?: string[];
  /** Or every stream whose name starts with this (not with `streams`). */
  streamPrefix?: string;
  /** Events at or after this time (ms since the epoch). */
  startTime?: number;
  nextToken?: string;
  limit?: number;
}

export interface FilteredLogEvent extends LogEvent {
  stream: string;
  /** Unique per event: what berth dedupes on when windows overlap. */
  eventId: string;
}

export interface FilteredLogEventsPage {
  events: FilteredLogEvent[];
  /** Absent once every matching event has been returned. */
  nextToken?: string;
}

export interface LogsApi {
  /**
   * One page of events across streams, in timestamp order; undefined when the group, or one
   * of the named streams, does not exist (yet).
   */
  filterLogEvents(input: FilterLogEventsInput): Promise<FilteredLogEventsPage | undefined>;
  /** One page of a stream; undefined while the stream (or its group) does not exist. */
  getLogEvents(input: GetLogEventsInput): Promise<LogEventsPage | undefined>;
  describeLogGroup(name: string): Promise<LogGroup | undefined>;
  createLogGroup(name: string, tags: Tags): Promise<void>;
  putRetentionPolicy(name: string, days: number): Promise<void>;
  listTags(arn: string): Promise<Tags>;
  tagResource(arn: string, tags: Tags): Promise<void>;
  deleteLogGroup(name: string): Promise<void>;
}
