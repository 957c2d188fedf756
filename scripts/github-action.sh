#!/usr/bin/env bash
# The step behind action.yml: runs one berth command from the exactly pinned npm package
# (berth-cli@VERSION; the registry name `berth` is another project's), then records the
# command and its exit code in the job summary and the step's `exit-code` output, and exits
# with berth's code. Inputs come as environment variables, never interpolated into code:
#   BERTH_ARGS     berth's arguments, split on whitespace (no shell quoting or globbing)
#   BERTH_VERSION  an exact version (1.2.3 or 1.2.3-beta.1); ranges and tags are refused
#   BERTH_COMMAND  what runs berth (default: npx --yes --package=berth-cli@VERSION -- berth)
set -uo pipefail
version="${BERTH_VERSION:-}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "::error title=berth::version must be an exact version such as 0.1.0, got \"$version\" (a range or tag would not pin berth)"
  exit 2
fi
if [ -z "${BERTH_ARGS// /}" ]; then
  echo "::error title=berth::args is empty: give the berth command to run, e.g. migrate --all"
  exit 2
fi
if [ -n "${BERTH_COMMAND:-}" ]; then
  read -r -a berth <<<"$BERTH_COMMAND"
else
  berth=(npx --yes "--package=berth-cli@$version" -- berth)
fi
set -f # the arguments are words, not patterns
# shellcheck disable=SC2086 # split on whitespace, by design
"${berth[@]}" $BERTH_ARGS
code=$?
set +f

case "$code" in
  0) meaning="success" ;;
  2) meaning="usage error" ;;
  3) meaning="config missing or invalid" ;;
  4) meaning="a database failed to migrate" ;;
  5) meaning="a database was locked by another run" ;;
  6) meaning="verify found an incomplete database" ;;
  7) meaning="environment: PostgreSQL, credentials or container engine unavailable" ;;
  8) meaning="provider: access denied, invalid reference or image failure" ;;
  9) meaning="changes pending" ;;
  1[1-5]) meaning="a pipeline stage failed" ;;
  130) meaning="interrupted" ;;
  *) meaning="internal error" ;;
esac
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "exit-code=$code" >>"$GITHUB_OUTPUT"; fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  mark=$([ "$code" -eq 0 ] && echo "✅" || echo "❌")
  printf '%s `berth %s` (berth-cli %s): exit %s, %s\n\n' \
    "$mark" "$BERTH_ARGS" "$version" "$code" "$meaning" >>"$GITHUB_STEP_SUMMARY"
fi
if [ "$code" -ne 0 ]; then
  echo "::error title=berth::berth $BERTH_ARGS exited $code ($meaning)"
fi
exit "$code"
