"""GET /api/voicebot/ab-tests and GET /api/voicebot/ab-tests/{test_name}: prompt A/B tests with
their verdict (contract 9)."""

from __future__ import annotations

from aiohttp import web

from api.analytics.voicebot.ab import ab_test, ab_tests
from api.auth import requested_enterprises
from api.contract.replies import INVALID_PARAMETER, NOT_FOUND
from api.contract.route import Reply, endpoint
from api.errors import not_found
from api.json import json_response
from api.keys import POOL
from api.routes.voicebot.models import AbTest, AbTests
from api.routes.voicebot.params import BotParams, DetailParams, TestPath
from api.snapshot import snapshot
from streams.voicebot.ab import SIGNIFICANCE

# The tests' assumptions (streams.voicebot.ab), for whoever reads the verdict.
VERDICT = f"""A test's calls are those of its enterprise that started in [startedAt, endedAt) (to
now while it has no end) with the variant's name as prompt_version. Per variant: calls, the mean
quality score and mean total_cost_usd of the calls that have one, and the share transferred to
an operator (percent).

The verdict uses two tests from SciPy (`scipy.stats`):

- **qualityPValue: Welch's t-test** (`ttest_ind(a, b, equal_var=False)`, two-sided) on each
  variant's quality scores. It assumes the calls are independent of each other, within and
  between the variants, and that each variant's mean score is approximately normally
  distributed (true of the scores themselves, or of large enough samples by the central limit
  theorem); it does not assume equal variances.
- **transferPValue: the two-proportion z-test** with the pooled proportion, two-sided, on
  whether each call was transferred. It assumes independent calls and samples large enough for
  the normal approximation of the binomial (as a rule, at least 5 transferred and 5 not
  transferred calls per variant); with fewer its p-value is only indicative. It is null when no
  call or every call was transferred.

A p-value is null while a variant has fewer than 2 calls (with a score, for quality).
`winner` is the variant with the higher mean quality once qualityPValue < {SIGNIFICANCE:g}, else
null: no correction is made for looking at a running test repeatedly, so read a running test's
verdict as provisional."""


@endpoint(
    "GET",
    "/api/voicebot/ab-tests",
    operation_id="listVoicebotAbTests",
    tag="voicebot",
    summary="Prompt A/B tests that ran in a range, with each variant's figures and the verdict",
    description="The tests that ran at some time in [from, to), newest first; each test's"
    f" figures are over its whole span, not the range.\n\n{VERDICT}",
    responses={200: Reply("The tests.", AbTests), 400: INVALID_PARAMETER, 404: NOT_FOUND},
)
async def list_ab_tests(request: web.Request, query: BotParams) -> web.Response:
    scope = query.scoped(request)
    async with snapshot(request.config_dict[POOL]) as conn:
        found = await ab_tests(conn, scope)
    return json_response({"tests": found})


@endpoint(
    "GET",
    "/api/voicebot/ab-tests/{test_name}",
    operation_id="getVoicebotAbTest",
    tag="voicebot",
    summary="One prompt A/B test with each variant's figures and the verdict",
    description="A test of another enterprise answers 404, exactly as a missing one.\n\n" + VERDICT,
    responses={
        200: Reply("The test.", AbTest),
        400: INVALID_PARAMETER,
        404: NOT_FOUND,
    },
)
async def get_ab_test(request: web.Request, path: TestPath, query: DetailParams) -> web.Response:
    enterprises = requested_enterprises(request, query.enterprises, outside_is_missing=True)
    async with snapshot(request.config_dict[POOL]) as conn:
        found = await ab_test(conn, path.test_name, enterprises)
    if found is None:
        raise not_found(f"no A/B test {path.test_name!r}")
    return json_response(found)
