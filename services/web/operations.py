"""Every GraphQL operation the panel runs, in one place."""

from __future__ import annotations

ERRORS = "userErrors { field message code }"

LOG_IN = f"""mutation($i: LogInInput!) {{ logIn(input: $i) {{
  session {{ accessToken accessTokenExpiresAt refreshToken member {{ id handle }} }} {ERRORS} }} }}"""
LOG_OUT = f"mutation($i: RefreshTokenInput!) {{ logOut(input: $i) {{ ok {ERRORS} }} }}"

DASHBOARD = """{ moderationDashboard { openCases unclaimedCases appealedCases oldestWaitingSince actionsToday } }"""

MEMBER_REF = "id handle displayName"
HUB_REF = "id slug name"
CONTENT = f"""targetType targetId title body bodyHtml url state createdAt editedAt
  author {{ {MEMBER_REF} }} hub {{ {HUB_REF} }}"""

CASES = f"""query($filter: ModerationCaseFilter, $first: Int, $after: String) {{
  moderationCases(filter: $filter, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }}
    nodes {{ id status targetType targetId reportCount openedAt lastReportedAt resolvedAt autoHidden
      claimedBy {{ {MEMBER_REF} }} hub {{ {HUB_REF} }} reasons {{ reason count }}
      content {{ title body state author {{ {MEMBER_REF} }} }}
      subjectMember {{ {MEMBER_REF} }} subjectOrganisation {{ id slug name }}
      appeal {{ createdAt decidedAt }} }} }} }}"""

DECISION = f"id action reason suspendedUntil createdAt moderator {{ {MEMBER_REF} }}"
HISTORY = f"""warnings suspensions removals hides bans member {{ id handle isSuspended isBanned }}
  decisions(first: 10) {{ nodes {{ {DECISION} }} }}
  recentContent {{ {CONTENT} }}"""

CASE = f"""query($id: ID!) {{ moderationCase(id: $id) {{
  id status targetType targetId reportCount openedAt lastReportedAt resolvedAt autoHidden claimedAt
  claimedBy {{ {MEMBER_REF} }} hub {{ {HUB_REF} }}
  content {{ {CONTENT} }}
  subjectMember {{ {MEMBER_REF} isSuspended }} subjectOrganisation {{ id slug name verified }}
  reasons {{ reason count }}
  reports(first: 50) {{ totalCount nodes {{ id reason note createdAt reporter {{ {MEMBER_REF} }} }} }}
  decisions {{ {DECISION} }}
  appeal {{ statement createdAt decidedAt }}
  authorHistory {{ {HISTORY} }} }} }}"""

CLAIM = f"""mutation($i: ClaimCaseInput!) {{ claimCase(input: $i) {{ case {{ id }} {ERRORS} }} }}"""
DECIDE = f"""mutation($i: DecideCaseInput!) {{ decideCase(input: $i) {{ case {{ id status }} {ERRORS} }} }}"""

MEMBER = f"""query($handle: String!) {{ member(handle: $handle) {{
  {MEMBER_REF} headline platformRole isSuspended isBanned isDeleted createdAt followersCount
  organisation {{ slug name }} municipality {{ name }} }} }}"""
MEMBER_ID = "query($handle: String!) { member(handle: $handle) { id handle } }"
HISTORY_OF = f"""query($id: ID!) {{ moderationHistory(memberId: $id) {{ {HISTORY} }} }}"""
MODERATE_MEMBER = f"""mutation($i: ModerateMemberInput!) {{ moderateMember(input: $i) {{
  decision {{ id action }} {ERRORS} }} }}"""

ORGANISATIONS = """query($verified: Boolean, $first: Int, $after: String) {
  organisations(verified: $verified, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id slug name kind website verified createdAt membersCount municipality { name } county { name } } } }"""
MODERATE_ORGANISATION = f"""mutation($i: ModerateOrganisationInput!) {{ moderateOrganisation(input: $i) {{
  decision {{ id action }} {ERRORS} }} }}"""

HUB_ID = "query($slug: String!) { hub(slug: $slug) { id slug name } }"
APPOINT = f"""mutation($i: AppointHubModeratorInput!) {{ appointHubModerator(input: $i) {{
  decision {{ id action }} {ERRORS} }} }}"""

AUDIT = f"""query($filter: AuditLogFilter, $first: Int, $after: String) {{
  auditLog(filter: $filter, first: $first, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ id actorLabel action targetType targetId reason before after createdAt
      actor {{ {MEMBER_REF} }} case {{ id }} }} }} }}"""

JOB_SERVICES = '{ __type(name: "JobService") { enumValues { name } } }'
FAILED_JOBS = """query($service: JobService!, $first: Int, $after: String) {
  failedJobs(service: $service, state: DEAD, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id service job key state attempts error failedAt deadAt replays arg } } }"""
REPLAY = f"""mutation($i: ReplayFailedJobInput!) {{ replayFailedJob(input: $i) {{ failedJob {{ id }} {ERRORS} }} }}"""
