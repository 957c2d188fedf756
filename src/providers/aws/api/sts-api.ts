/** STS: who berth is calling as (the account ID for ARNs in policies). */
export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

export interface StsApi {
  getCallerIdentity(): Promise<CallerIdentity>;
}
