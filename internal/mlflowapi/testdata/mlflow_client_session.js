// A session of the npm MLflow client (mlflow@2.0.7) against a tracking
// server, configured as MLflow's own clients are:
//   MLFLOW_TRACKING_URI=http://127.0.0.1:PORT [MLFLOW_TRACKING_TOKEN=T] node mlflow_client_session.js
// (or the URI as the first argument). With a token every request carries
// Authorization: Bearer T, as MLflow's clients send it.
// The client has no artifact upload or registry calls; those go through
// fetch with the requests MLflow's Python client sends. The last line of
// output is "RESULT {json}" for the Go test to check.
const MLflow = require('mlflow');

const endpoint = (process.argv[2] || process.env.MLFLOW_TRACKING_URI || '').replace(/\/+$/, '');
if (!endpoint) throw new Error('set MLFLOW_TRACKING_URI');
const auth = process.env.MLFLOW_TRACKING_TOKEN ? { Authorization: `Bearer ${process.env.MLFLOW_TRACKING_TOKEN}` } : {};
const client = new MLflow({ endpoint, headers: auth });
const { Experiments, Runs, Metrics, Artifacts } = client;

async function call(method, path, body) {
  const r = await fetch(`${endpoint}/api/2.0/${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...auth },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

(async () => {
  const { experiment_id } = await Experiments.create({ name: 'node-session' });
  const { experiments } = await Experiments.list();
  if (!experiments.some(e => e.experiment_id === experiment_id)) throw new Error('experiments/list misses the new experiment');
  const { experiment } = await Experiments.get({ experiment_id });
  if (experiment.name !== 'node-session') throw new Error('experiments/get: ' + JSON.stringify(experiment));

  const t0 = Date.now();
  const { run } = await Runs.create({
    experiment_id, start_time: t0,
    tags: [{ key: 'mlflow.runName', value: 'node-run' }, { key: 'team', value: 'churn' }],
  });
  const run_id = run.info.run_id;
  await Runs.logParameter({ run_id, key: 'learning_rate', value: '0.05' });
  for (let step = 0; step < 10; step++) {
    await Runs.logMetric({ run_id, key: 'loss', value: 1 / (step + 1), timestamp: t0 + step, step });
  }
  await Runs.logBatch({
    run_id,
    metrics: [0, 1, 2].map(step => ({ key: 'auc', value: 0.8 + step * 0.05, timestamp: t0 + step, step })),
    params: [{ key: 'max_depth', value: '6' }],
    tags: [{ key: 'stage', value: 'experiment' }],
  });
  await Runs.setTag({ run_id, key: 'note', value: 'logged from node' });

  // Artifacts through the proxy at the run's artifact_uri, as MLflow's
  // clients resolve mlflow-artifacts:/ URIs.
  const root = run.info.artifact_uri.replace('mlflow-artifacts:/', '');
  const put = await fetch(`${endpoint}/api/2.0/mlflow-artifacts/artifacts/${root}/model/notes.txt`, { method: 'PUT', body: 'hello from node', headers: auth });
  if (put.status !== 200) throw new Error('artifact upload: ' + put.status + ' ' + await put.text());
  const listed = await Artifacts.list({ run_id, path: 'model' });
  if (!listed.files || listed.files.length !== 1 || listed.files[0].path !== 'model/notes.txt') throw new Error('artifacts/list: ' + JSON.stringify(listed));
  const got = await fetch(`${endpoint}/api/2.0/mlflow-artifacts/artifacts/${root}/model/notes.txt`, { headers: auth });
  if ((await got.text()) !== 'hello from node') throw new Error('artifact download differs');

  const history = await Metrics.getHistory({ run_id, metric_key: 'loss' });
  if (history.metrics.length !== 10) throw new Error('metric history: ' + JSON.stringify(history));

  const found = await Runs.search({ experiment_ids: [experiment_id], filter: "metrics.auc > 0.85 and params.max_depth = '6' and tags.team = 'churn'", order_by: ['metrics.auc DESC'] });
  if (!found.runs || found.runs.length !== 1 || found.runs[0].info.run_id !== run_id) throw new Error('runs/search: ' + JSON.stringify(found));
  const none = await Runs.search({ experiment_ids: [experiment_id], filter: 'metrics.auc > 0.99' });
  if (none.runs && none.runs.length) throw new Error('runs/search should find nothing');

  await Runs.update({ run_id, status: 'FINISHED', end_time: Date.now() });
  const { run: done } = await Runs.get({ run_id });
  if (done.info.status !== 'FINISHED') throw new Error('runs/get status ' + done.info.status);

  // A model and an alias, as MLflow's Python client registers them.
  await call('POST', 'mlflow/registered-models/create', { name: 'node-model' });
  const { model_version } = await call('POST', 'mlflow/model-versions/create', { name: 'node-model', source: `runs:/${run_id}/model`, run_id });
  await call('POST', 'mlflow/registered-models/alias', { name: 'node-model', alias: 'champion', version: model_version.version });
  const byAlias = await call('GET', `mlflow/registered-models/alias?name=node-model&alias=champion`);
  if (byAlias.model_version.version !== model_version.version) throw new Error('alias: ' + JSON.stringify(byAlias));

  // Searches page with MLflow's tokens: two runs, one a page.
  const { run: second } = await Runs.create({ experiment_id, start_time: t0 + 1000, tags: [{ key: 'mlflow.runName', value: 'node-run-2' }] });
  await Runs.logMetric({ run_id: second.info.run_id, key: 'auc', value: 0.5, timestamp: t0, step: 0 });
  const p1 = await Runs.search({ experiment_ids: [experiment_id], order_by: ['metrics.auc DESC'], max_results: 1 });
  if (p1.runs.length !== 1 || p1.runs[0].info.run_id !== run_id || !p1.next_page_token) throw new Error('runs/search page 1: ' + JSON.stringify(p1));
  const p2 = await Runs.search({ experiment_ids: [experiment_id], order_by: ['metrics.auc DESC'], max_results: 1, page_token: p1.next_page_token });
  if (p2.runs.length !== 1 || p2.runs[0].info.run_id !== second.info.run_id || p2.next_page_token) throw new Error('runs/search page 2: ' + JSON.stringify(p2));
  const byName = await Runs.search({ experiment_ids: [experiment_id], filter: "attributes.run_name = 'node-run-2' and tags.`mlflow.runName` LIKE 'node-%'" });
  if (byName.runs.length !== 1 || byName.runs[0].info.run_id !== second.info.run_id) throw new Error('runs/search by run_name: ' + JSON.stringify(byName));
  await Runs.delete({ run_id: second.info.run_id });

  // A model version registered by Gyre (GYRE_EXPECT_MODEL) is found, and
  // its bundle downloaded, as MLflow's client finds and downloads one.
  const gyreModel = process.env.GYRE_EXPECT_MODEL;
  if (gyreModel) {
    const { registered_model } = await call('GET', `mlflow/registered-models/get?name=${encodeURIComponent(gyreModel)}`);
    const latest = registered_model.latest_versions || [];
    if (latest.length !== 1 || latest[0].version !== '1') throw new Error('Gyre model: ' + JSON.stringify(registered_model));
    const { artifact_uri } = await call('GET', `mlflow/model-versions/get-download-uri?name=${encodeURIComponent(gyreModel)}&version=1`);
    if (!artifact_uri.startsWith('mlflow-artifacts:/')) throw new Error('download uri: ' + artifact_uri);
    const bundle = await fetch(`${endpoint}/api/2.0/mlflow-artifacts/artifacts/${artifact_uri.replace('mlflow-artifacts:/', '')}`, { headers: auth });
    const bytes = Buffer.from(await bundle.arrayBuffer());
    if (bundle.status !== 200 || bytes.length < 100 || bytes.subarray(0, 2).toString() !== 'PK') throw new Error(`bundle download: ${bundle.status}, ${bytes.length} bytes`);
  }

  // Bad input gets MLflow's error code.
  try {
    await Runs.logParameter({ run_id, key: 'learning_rate', value: '0.5' });
    throw new Error('changing a param was accepted');
  } catch (e) {
    if (!String(e).includes('INVALID_PARAMETER_VALUE')) throw e;
  }
  console.log('RESULT ' + JSON.stringify({ experiment_id, run_id, version: model_version.version }));
})().catch(e => { console.error('FAILED', e); process.exit(1); });
