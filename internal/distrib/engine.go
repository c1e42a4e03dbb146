package distrib

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
)

// Engine says where and how to reach Temporal.
type Engine struct {
	// HostPort is the Temporal frontend (default port 7233).
	HostPort  string
	Namespace string
	TaskQueue string
	// Heartbeat is the trials' heartbeat timeout: how soon a dead
	// worker's trials are retried elsewhere.
	Heartbeat time.Duration
	// TrialTimeout bounds one activity's trials in trial-count mode (a
	// time budget bounds them by itself).
	TrialTimeout time.Duration
	// PerActivity fixes how many trials one activity runs (0: chosen from
	// the trials' measured times).
	PerActivity int
	// Retries is how many times an activity is attempted.
	Retries int32
	// TLS connects over TLS (implied by any of the fields below): CAFile
	// is a PEM bundle to verify the server with (default: the system's
	// roots), CertFile and KeyFile a PEM client certificate and key for
	// mTLS, ServerName the name to verify (default: the host's).
	TLS                       bool
	CAFile, CertFile, KeyFile string
	ServerName                string
	// APIKeyEnv names the environment variable holding an API key (as
	// Temporal Cloud issues), sent as a bearer token over TLS; the key
	// itself never appears in an engine URL.
	APIKeyEnv string
}

// Defaults for an Engine.
const (
	DefaultNamespace    = "default"
	DefaultTaskQueue    = "gyre"
	DefaultHeartbeat    = 30 * time.Second
	DefaultTrialTimeout = 2 * time.Hour
	DefaultRetries      = 5
)

// ParseEngine reads an engine URL:
// temporal://HOST[:PORT][?namespace=N&task_queue=Q&heartbeat=30s&trial_timeout=2h&per_activity=N&retries=N
// &tls=true&tls_ca=FILE&tls_cert=FILE&tls_key=FILE&tls_server_name=NAME&api_key_env=VAR].
func ParseEngine(s string) (Engine, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "temporal" || u.Host == "" {
		return Engine{}, fmt.Errorf("engine %q: want temporal://HOST:PORT[?namespace=N&task_queue=Q]", s)
	}
	if u.Path != "" && u.Path != "/" {
		return Engine{}, fmt.Errorf("engine %q: unexpected path %q: put the namespace in ?namespace=", s, u.Path)
	}
	e := Engine{HostPort: u.Host, Namespace: DefaultNamespace, TaskQueue: DefaultTaskQueue, Heartbeat: DefaultHeartbeat,
		TrialTimeout: DefaultTrialTimeout, Retries: DefaultRetries}
	if _, _, err := net.SplitHostPort(e.HostPort); err != nil {
		e.HostPort = net.JoinHostPort(u.Host, "7233")
	}
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		var err error
		switch k {
		case "namespace":
			e.Namespace = v
		case "task_queue":
			e.TaskQueue = v
		case "heartbeat":
			e.Heartbeat, err = positiveDuration(v)
		case "trial_timeout":
			e.TrialTimeout, err = positiveDuration(v)
		case "per_activity":
			e.PerActivity, err = strconv.Atoi(v)
			if err == nil && e.PerActivity < 1 {
				err = fmt.Errorf("want at least 1")
			}
		case "tls":
			e.TLS, err = strconv.ParseBool(v)
		case "tls_ca":
			e.CAFile = v
		case "tls_cert":
			e.CertFile = v
		case "tls_key":
			e.KeyFile = v
		case "tls_server_name":
			e.ServerName = v
		case "api_key_env":
			e.APIKeyEnv = v
		case "retries":
			var n int
			n, err = strconv.Atoi(v)
			if err == nil && n < 1 {
				err = fmt.Errorf("want at least 1")
			}
			e.Retries = int32(n)
		default:
			return Engine{}, fmt.Errorf("engine %q: unknown parameter %q (known: namespace, task_queue, heartbeat, trial_timeout, per_activity, retries, tls, tls_ca, tls_cert, tls_key, tls_server_name, api_key_env)", s, k)
		}
		if err != nil {
			return Engine{}, fmt.Errorf("engine %q: %s=%q: %v", s, k, v, err)
		}
	}
	if e.Namespace == "" || e.TaskQueue == "" {
		return Engine{}, fmt.Errorf("engine %q: empty namespace or task queue", s)
	}
	if (e.CertFile == "") != (e.KeyFile == "") {
		return Engine{}, fmt.Errorf("engine %q: tls_cert and tls_key go together (a client certificate and its key)", s)
	}
	if e.APIKeyEnv != "" && os.Getenv(e.APIKeyEnv) == "" {
		return Engine{}, fmt.Errorf("engine %q: api_key_env: the environment variable %s is not set", s, e.APIKeyEnv)
	}
	return e, nil
}

func positiveDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err == nil && d <= 0 {
		err = fmt.Errorf("want a positive duration")
	}
	return d, err
}

// String is the engine's URL.
func (e Engine) String() string {
	return "temporal://" + e.HostPort + "?namespace=" + url.QueryEscape(e.Namespace) + "&task_queue=" + url.QueryEscape(e.TaskQueue)
}

// Dial connects to the engine's Temporal frontend, checking that it
// answers. Temporal's own log goes to stderr at warning level and above
// (GYRE_TEMPORAL_LOG=debug|info for more).
func Dial(ctx context.Context, e Engine, identity string) (client.Client, error) {
	o, err := e.clientOptions(identity)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", e.HostPort, err)
	}
	c, err := client.DialContext(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w (is the server running? `temporal server start-dev` starts one)", e.HostPort, err)
	}
	return c, nil
}

// withEnv fills e's TLS and API key settings that the URL left unset from
// the environment variables Temporal's own CLI reads: TEMPORAL_TLS_CA,
// TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_SERVER_NAME and
// TEMPORAL_API_KEY (its name kept, its value read at Dial).
func (e Engine) withEnv() Engine {
	fill := func(v *string, env string) {
		if *v == "" {
			*v = os.Getenv(env)
		}
	}
	fill(&e.CAFile, "TEMPORAL_TLS_CA")
	if e.CertFile == "" && e.KeyFile == "" {
		e.CertFile, e.KeyFile = os.Getenv("TEMPORAL_TLS_CERT"), os.Getenv("TEMPORAL_TLS_KEY")
	}
	fill(&e.ServerName, "TEMPORAL_TLS_SERVER_NAME")
	if e.APIKeyEnv == "" && os.Getenv("TEMPORAL_API_KEY") != "" {
		e.APIKeyEnv = "TEMPORAL_API_KEY"
	}
	return e
}

// clientOptions are the SDK's options for reaching e as identity: TLS
// from the engine's files (and the environment), the API key from its
// variable. Errors name the file or variable and never hold the key.
func (e Engine) clientOptions(identity string) (client.Options, error) {
	e = e.withEnv()
	o := client.Options{HostPort: e.HostPort, Namespace: e.Namespace, Logger: sdkLogger(), Identity: identity}
	if !e.TLS && e.CAFile == "" && e.CertFile == "" && e.ServerName == "" && e.APIKeyEnv == "" {
		return o, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: e.ServerName}
	if e.CAFile != "" {
		pem, err := os.ReadFile(e.CAFile)
		if err != nil {
			return o, fmt.Errorf("tls_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return o, fmt.Errorf("tls_ca %s: no PEM certificate in it", e.CAFile)
		}
		cfg.RootCAs = pool
	}
	if e.CertFile != "" || e.KeyFile != "" {
		if e.CertFile == "" || e.KeyFile == "" {
			return o, fmt.Errorf("a client certificate needs both its certificate and key files (tls_cert, tls_key)")
		}
		cert, err := tls.LoadX509KeyPair(e.CertFile, e.KeyFile)
		if err != nil {
			return o, fmt.Errorf("tls_cert %s, tls_key %s: %w", e.CertFile, e.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	o.ConnectionOptions.TLS = cfg
	if e.APIKeyEnv != "" {
		key := os.Getenv(e.APIKeyEnv)
		if key == "" {
			return o, fmt.Errorf("api_key_env: the environment variable %s is not set", e.APIKeyEnv)
		}
		o.Credentials = client.NewAPIKeyStaticCredentials(key)
	}
	return o, nil
}

func sdkLogger() tlog.Logger {
	level := slog.LevelWarn
	switch strings.ToLower(os.Getenv("GYRE_TEMPORAL_LOG")) {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "error":
		level = slog.LevelError
	}
	return tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
}
