package distrib

import (
	"context"
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
// temporal://HOST[:PORT][?namespace=N&task_queue=Q&heartbeat=30s&trial_timeout=2h&per_activity=N&retries=N].
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
		case "retries":
			var n int
			n, err = strconv.Atoi(v)
			if err == nil && n < 1 {
				err = fmt.Errorf("want at least 1")
			}
			e.Retries = int32(n)
		default:
			return Engine{}, fmt.Errorf("engine %q: unknown parameter %q (known: namespace, task_queue, heartbeat, trial_timeout, per_activity, retries)", s, k)
		}
		if err != nil {
			return Engine{}, fmt.Errorf("engine %q: %s=%q: %v", s, k, v, err)
		}
	}
	if e.Namespace == "" || e.TaskQueue == "" {
		return Engine{}, fmt.Errorf("engine %q: empty namespace or task queue", s)
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
	o := client.Options{HostPort: e.HostPort, Namespace: e.Namespace, Logger: sdkLogger(), Identity: identity}
	c, err := client.DialContext(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w (is the server running? `temporal server start-dev` starts one)", e.HostPort, err)
	}
	return c, nil
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
