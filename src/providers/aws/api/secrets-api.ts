/** Secrets Manager: berth only describes the database secret. It never reads its value. */
export interface SecretDescription {
  arn: string;
  name: string;
  kmsKeyId?: string;
  /** Set when the secret is scheduled for deletion. */
  deletedDate?: Date;
}

export interface SecretsApi {
  describeSecret(nameOrArn: string): Promise<SecretDescription | undefined>;
}
