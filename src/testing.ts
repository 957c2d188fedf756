/**
 * berth's second entry, `berth-cli/testing`: the in-memory AWS fake, for users' own tests of code
 * that drives berth's AWS provider. Kept out of the main entry so a program that only runs
 * berth never loads 1,300 lines of test double.
 */
export { createAwsFake, AwsFake } from './providers/aws/fake/aws-fake.js';
export { sampleConfig, seedPrerequisites } from './providers/aws/fake/sample-stack.js';
export { SimClock } from './providers/aws/fake/sim-clock.js';
export { AWS_RATE_LIMITS } from './providers/aws/fake/fake-tasks.js';
