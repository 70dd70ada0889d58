// Grade one URL with the MDN HTTP Observatory's own retriever, tests and grader.
//
// Its CLI (and its scan()) only reach ports 80 and 443, so this repeats scan() with the
// retriever's port and path options. Usage:
//   NODE_EXTRA_CA_CERTS=stack/tls/ca.pem node observatory.mjs <host> <https-port> <http-port> <path>
// Pass 0 as <http-port> when the server has no plain-HTTP listener. Prints JSON.
import { MINIMUM_SCORE_FOR_EXTRA_CREDIT } from "@mdn/mdn-http-observatory/src/grader/charts.js";
import {
  getGradeForScore,
  getScoreModifier,
} from "@mdn/mdn-http-observatory/src/grader/grader.js";
import { retrieve } from "@mdn/mdn-http-observatory/src/retriever/retriever.js";
import { ALL_TESTS } from "@mdn/mdn-http-observatory/src/constants.js";

const [host, httpsPort, httpPort, path] = process.argv.slice(2);
const options = { httpsPort: Number(httpsPort), path };
// A closed port stands for "no plain HTTP": the redirection test then passes as not needed.
options.httpPort = Number(httpPort) || 1;

const requests = await retrieve(host, options);
const auto = requests.responses.auto;
if (!auto) {
  console.log(JSON.stringify({ error: "the site seems to be down" }));
  process.exit(1);
}

// Like scan(): only 2xx, 3xx, 401 and 403 final answers are graded.
if (auto.status < 200 || (auto.status >= 400 && ![401, 403].includes(auto.status))) {
  console.log(JSON.stringify({ error: `unexpected HTTP status ${auto.status}` }));
  process.exit(1);
}

// The same arithmetic as src/scanner/index.js.
let withExtraCredit = 100;
let uncurved = 100;
const tests = {};
for (const test of ALL_TESTS) {
  const output = test(requests);
  if (output.result) {
    output.scoreModifier = getScoreModifier(output.result);
    withExtraCredit += output.scoreModifier;
    if (output.scoreModifier < 0) {
      uncurved += output.scoreModifier;
    }
  }
  tests[output.constructor.name] = {
    result: output.result,
    pass: output.pass,
    scoreModifier: output.scoreModifier,
  };
}
const score = uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? withExtraCredit : uncurved;
const final = getGradeForScore(score);
console.log(
  JSON.stringify({
    url: `https://${host}:${httpsPort}${path}`,
    status: auto.status,
    verified: auto.verified,
    score: final.score,
    grade: final.grade,
    tests,
  }),
);
