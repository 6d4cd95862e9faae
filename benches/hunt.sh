#!/usr/bin/env bash
# One pass (issue 21): every built-in detection plus 60 Sigma rules in one
# `hunt` over the ~1M-event archive, against one full scan, and against
# running the same detections one by one (a `run NAME` per saved query, a
# `hunt --sigma FILE` per rule). Checks that the findings agree.
#
#   benches/hunt.sh                  (builds release; NO_BUILD=1 to skip)
#   SIGMA_DIR=path benches/hunt.sh   (your rules instead of the 60 written here)
#
# The 60 rules are written by this script into $BENCH_DIR/hunt-rules, in
# the shapes CloudTrail rules take (event names and sources, identity
# types, request fields, user agents, error codes, addresses, keywords).
source "$(dirname "$0")/common.sh"

RULES="${SIGMA_DIR:-$WORK/hunt-rules}"
# A second set in the same shapes on calls the archive makes rarely or
# never, as published CloudTrail rules mostly are (StopLogging,
# DeleteTrail, PutBucketAcl, ...): few findings, the same 60 conditions.
RARE="$WORK/hunt-rules-rare"
if [ -z "${SIGMA_DIR:-}" ]; then
  rm -rf "$RULES" "$RARE"
  mkdir -p "$RULES" "$RARE"
  python3 - "$RULES" "$RARE" <<'PYEOF'
import sys, os
common = [
    ("ec2", "DescribeInstances"), ("kms", "Decrypt"), ("s3", "ListBuckets"),
    ("sts", "GetCallerIdentity"), ("ec2", "DescribeSecurityGroups"), ("kms", "GenerateDataKey"),
    ("dynamodb", "DescribeTable"), ("ssm", "GetParameter"), ("sts", "AssumeRole"),
    ("s3", "GetBucketPolicy"), ("iam", "ListUsers"), ("secretsmanager", "GetSecretValue"),
    ("ecr", "GetAuthorizationToken"), ("iam", "ListRoles"), ("logs", "CreateLogStream"),
    ("lambda", "UpdateFunctionCode20150331v2"), ("ec2", "CreateSnapshot"), ("ec2", "RunInstances"),
    ("ec2", "AuthorizeSecurityGroupIngress"), ("s3", "PutBucketPolicy"), ("iam", "CreateUser"),
    ("iam", "AttachUserPolicy"), ("rds", "CreateDBSnapshot"), ("signin", "ConsoleLogin"),
    ("ec2", "TerminateInstances"), ("dynamodb", "DeleteTable"), ("iam", "CreateAccessKey"),
    ("cloudtrail", "StopLogging"), ("cloudtrail", "StartLogging"), ("cloudtrail", "DeleteTrail"),
]
rare = [
    ("cloudtrail", "StopLogging"), ("cloudtrail", "DeleteTrail"), ("cloudtrail", "UpdateTrail"),
    ("cloudtrail", "PutEventSelectors"), ("s3", "PutBucketAcl"), ("s3", "DeleteBucketPolicy"),
    ("s3", "PutBucketPublicAccessBlock"), ("iam", "CreateLoginProfile"), ("iam", "UpdateLoginProfile"),
    ("iam", "CreateAccessKey"), ("iam", "UpdateAssumeRolePolicy"), ("iam", "AttachRolePolicy"),
    ("iam", "PutUserPolicy"), ("iam", "DeactivateMFADevice"), ("iam", "DeleteVirtualMFADevice"),
    ("guardduty", "DeleteDetector"), ("guardduty", "UpdateDetector"), ("config", "StopConfigurationRecorder"),
    ("config", "DeleteDeliveryChannel"), ("kms", "ScheduleKeyDeletion"), ("kms", "DisableKey"),
    ("ec2", "ModifySnapshotAttribute"), ("ec2", "ModifyImageAttribute"), ("ec2", "DeleteFlowLogs"),
    ("ec2", "TerminateInstances"), ("rds", "ModifyDBInstance"), ("dynamodb", "DeleteTable"),
    ("signin", "ConsoleLogin"), ("sts", "GetFederationToken"), ("organizations", "LeaveOrganization"),
]
shapes = [
    # a plain event
    "  sel:\n    eventSource: {src}.amazonaws.com\n    eventName: {name}\n  condition: sel",
    # denied
    "  sel:\n    eventName: {name}\n    errorCode|contains: Denied\n  condition: sel",
    # an identity type and a user agent
    "  sel:\n    eventName: {name}\n    userIdentity.type: [Root, IAMUser]\n  cli:\n    userAgent|contains: 'aws-cli'\n  condition: sel and not cli",
    # a request field, with a wildcard
    "  sel:\n    eventName|startswith: '{short}'\n    requestParameters.bucketName|endswith: '-logs'\n  condition: sel",
    # an address range and a session issuer
    "  sel:\n    eventName: {name}\n    sourceIPAddress|cidr: 203.0.113.0/24\n  role:\n    userIdentity.sessionContext.sessionIssuer.userName|re: '(?i)admin'\n  condition: sel or ({name_lower} and role)",
    # a list of names and a response field
    "  sel:\n    eventName:\n      - {name}\n      - Get{name}\n      - List{name}\n  ok:\n    responseElements.ConsoleLogin: Success\n  condition: 1 of sel*",
]
def write(out, calls):
    n = 0
    for i, (src, name) in enumerate(calls):
        for j in (0, 1):
            shape = shapes[(i * 2 + j) % len(shapes)]
            detection = shape.format(src=src, name=name, short=name[:4], name_lower="sel")
            n += 1
            with open(os.path.join(out, f"bench-{n:02d}.yml"), "w") as f:
                f.write(
                    f"title: Bench rule {n} on {name}\nid: 00000000-0000-4000-8000-{n:012d}\n"
                    f"logsource:\n  product: aws\n  service: cloudtrail\ndetection:\n{detection}\n"
                    f"level: {['low', 'medium', 'high'][n % 3]}\ntags:\n  - attack.t{1000 + n}\n"
                )
    return n
write(sys.argv[1], common)
n = write(sys.argv[2], rare)
print(n)
PYEOF
fi
echo "rules: $RULES ($(find "$RULES" -name '*.yml' -o -name '*.yaml' | wc -l) files)"

echo "== one pass against one scan"
timed "one scan: count(*) of eventname" \
  "$BIN" --source "$ARCHIVE" --format csv -e "SELECT count(eventname) FROM cloudtrail"
SCAN_CHEAP=$BEST
timed "one scan reading the big text columns" \
  "$BIN" --source "$ARCHIVE" --format csv -e \
  "SELECT count(*), max(length(requestparameters)), max(length(responseelements)), max(length(useragent)), count(DISTINCT useridentity.arn) FROM cloudtrail"
SCAN_TEXT=$BEST
# Every column counted: each record decoded whole, as a pass of many
# detections needs most of it.
EVERY=$("$BIN" --source "$ARCHIVE" --format csv -e \
  "SELECT column_name FROM information_schema.columns WHERE table_name = 'cloudtrail' ORDER BY ordinal_position" \
  | tail -n +2 | sed 's/.*/count("&")/' | paste -sd, -)
timed "one full scan: every column read" \
  "$BIN" --source "$ARCHIVE" --format csv -e "SELECT $EVERY FROM cloudtrail"
SCAN_FULL=$BEST
timed "the sessions table: every issued key and its origin" \
  "$BIN" --source "$ARCHIVE" --format csv -e \
  "SELECT count(*), count(origin), count(why_no_origin), max(hops) FROM cloudtrail_sessions"
awk -v s="$BEST" -v f="$SCAN_FULL" 'BEGIN {
  printf "  the sessions table: %.2fx the full scan (target: 1.5x)\n", s / f }'
timed "the slowest built-in alone: run new-source-ip" \
  "$BIN" --source "$ARCHIVE" --format csv run forensics/new-source-ip
DETECTIONS=$("$BIN" --source "$ARCHIVE" --format csv hunt 2>&1 >/dev/null \
  | sed -n 's/^trailsql: \([0-9]*\) built-in detections run.*/\1/p')
timed "hunt: the $DETECTIONS built-in detections" \
  "$BIN" --source "$ARCHIVE" --format csv hunt
awk -v h="$BEST" -v a="$SCAN_CHEAP" -v b="$SCAN_TEXT" -v f="$SCAN_FULL" -v n="$DETECTIONS" 'BEGIN {
  printf "  %d detections in one pass: %.2fx the full scan (target: 2x), %.2fx the cheapest scan, %.2fx the scan of the text columns\n", n, h / f, h / a, h / b }'
timed "hunt: the Sigma rules alone" \
  "$BIN" --source "$ARCHIVE" --format csv hunt --no-builtins --sigma "$RULES"
timed "run --all (every saved query)" \
  "$BIN" --source "$ARCHIVE" --format csv --stats run --all
grep 'trailsql: read ' "$WORK/err.txt" | sed 's/^/  /'
if [ -z "${SIGMA_DIR:-}" ]; then
  timed "hunt: built-in detections + 60 rules on rare calls" \
    "$BIN" --source "$ARCHIVE" --format csv --stats hunt --sigma "$RARE"
  grep 'findings' "$WORK/err.txt" | sed 's/^/  /'
fi
timed "hunt: built-in detections + Sigma rules" \
  "$BIN" --source "$ARCHIVE" --format csv --stats hunt --sigma "$RULES"
cp "$WORK/out.txt" "$WORK/hunt-timeline.csv"
grep 'trailsql: read \|findings\|to run' "$WORK/err.txt" | sed 's/^/  /'

echo "== the same detections one by one (one run each)"
started=$EPOCHREALTIME
: > "$WORK/one-by-one.txt"
"$BIN" run --list > "$WORK/list.txt"
for q in $(grep -E '^[a-z]+/' "$WORK/list.txt" | cut -d' ' -f1); do
  # One that needs a parameter is left out of hunt too (it exits 2 here).
  "$BIN" --source "$ARCHIVE" --format csv run "$q" > "$WORK/one.csv" 2> /dev/null || continue
  id=$(grep -A1 "^$q " "$WORK/list.txt" | sed -n 's/^    id \([^ ]*\).*/\1/p')
  echo "$id $(sed -n 's/^== .*: \([0-9]*\) findings\{0,1\}$/\1/p' "$WORK/one.csv")" >> "$WORK/one-by-one.txt"
done
for rule in $(find "$RULES" -name '*.yml' -o -name '*.yaml' | sort); do
  found=$("$BIN" --source "$ARCHIVE" --format csv hunt --no-builtins --sigma "$rule" 2>&1 >/dev/null \
    | sed -n 's/^trailsql: \([0-9]*\) findings\{0,1\}$/\1/p')
  echo "$(sed -n 's/^id: //p' "$rule") ${found:-0}" >> "$WORK/one-by-one.txt"
done
ended=$EPOCHREALTIME
printf '%-52s %8.3f s  (%d detections, one process each)\n' "one by one" \
  "$(awk "BEGIN{print $ended - $started}")" "$(wc -l < "$WORK/one-by-one.txt")"

echo "== findings per detection: hunt against one by one"
python3 - "$WORK/hunt-timeline.csv" "$WORK/one-by-one.txt" <<'PYEOF'
import csv, sys, collections
hunt = collections.Counter(r["rule_id"] for r in csv.DictReader(open(sys.argv[1])))
alone = {}
for line in open(sys.argv[2]):
    rid, n = line.split()
    alone[rid] = int(n)
# A saved query that counts or groups has no timeline rows in hunt.
differ = [(r, n, hunt.get(r, 0)) for r, n in alone.items() if hunt.get(r, 0) != n
          and not (r.startswith("trailsql.") and hunt.get(r, 0) == 0 and r in (
              "trailsql.forensics.access-denied-spikes", "trailsql.forensics.delivery-gaps"))]
total = sum(hunt.values())
if differ:
    print(f"  DIFFER ({len(differ)}):", differ[:10])
else:
    print(f"  all {len(alone)} detections agree; {total} findings on the timeline")
PYEOF
