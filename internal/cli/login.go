package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gyre-ml/gyre/internal/apiclient"
	"github.com/gyre-ml/gyre/internal/web"
)

func init() { register(newLoginCmd); register(newLogoutCmd); register(newWhoamiCmd) }

func newLoginCmd(app *App) *cobra.Command {
	var user, token, expiresIn string
	var pwStdin bool
	var expires *time.Time
	cmd := &cobra.Command{
		Use:   "login SERVER_URL",
		Short: "Store a token for a team server in your config directory",
		Long: `Sign in to a team server and keep a token for it in
$XDG_CONFIG_HOME/gyre/logins.json (os.UserConfigDir; the file is 0600, its
directory 0700). With --token (or GYRE_TOKEN) the token is checked and kept.
With --user, your password (prompted, or one line on stdin with
--password-stdin) makes a new token for this machine; the password itself is
never stored; --expires-in 30d makes that token expire (the server then
answers 401 and commands say to log in again). Then point commands at the server with --server or GYRE_SERVER.`,
		Example: `  gyre login https://gyre.example.com --token gyre_...
  gyre login https://gyre.example.com --user alice --expires-in 30d
  export GYRE_SERVER=https://gyre.example.com; gyre runs list`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			base := strings.TrimRight(args[0], "/")
			if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
				return usageErrorf("login %s: want an http:// or https:// URL", base)
			}
			if expiresIn != "" {
				if _, err := web.ParseAge(expiresIn); err != nil {
					return usageErrorf("--expires-in: %v", err)
				}
			}
			if token == "" {
				token = os.Getenv("GYRE_TOKEN")
			}
			if token == "" {
				if user == "" {
					return usageErrorf("login %s: give --token TOKEN, or --user NAME to sign in with a password", base)
				}
				pw, err := readPassword(app, pwStdin)
				if err != nil {
					return err
				}
				c, err := newClient(base, "")
				if err != nil {
					return err
				}
				c.BasicAuth(user, pw)
				host, _ := os.Hostname()
				t, err := c.CreateOwnToken(ctx, web.CreateTokenRequest{Description: "gyre login on " + host, ExpiresIn: expiresIn})
				if err != nil {
					return err
				}
				token, expires = t.Token, t.Info.Expires
			} else if expiresIn != "" {
				return usageErrorf("login %s: --expires-in makes a new token with --user; a token given with --token keeps the expiry it was made with", base)
			}
			c, err := newClient(base, token)
			if err != nil {
				return err
			}
			who, err := c.Whoami(ctx)
			if err != nil {
				return err
			}
			ls, err := apiclient.LoadLogins()
			if err != nil {
				return err
			}
			ls.Servers[base] = apiclient.Login{User: who.Name, Token: token, Saved: time.Now().UTC(), Expires: expires}
			if err := ls.Save(); err != nil {
				return err
			}
			p, _ := apiclient.LoginsPath()
			return app.done(map[string]any{"server": base, "user": who.Name, "role": who.Role, "saved": p}, "logged in to %s as %s (%s); token saved in %s\nuse it with --server %s or GYRE_SERVER=%s", base, who.Name, who.Role, p, base, base)
		},
	}
	f := cmd.Flags()
	f.StringVar(&user, "user", "", "sign in as this user with a password")
	f.StringVar(&token, "token", "", "an API token to keep (default $GYRE_TOKEN)")
	f.BoolVar(&pwStdin, "password-stdin", false, "read the password from stdin")
	f.StringVar(&expiresIn, "expires-in", "", "with --user: the new token expires after this age (30d, 12h); default never")
	return cmd
}

func readPassword(app *App, fromStdin bool) (string, error) {
	if !fromStdin {
		if f, ok := app.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprint(app.Stderr, "password: ")
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(app.Stderr)
			if err != nil {
				return "", fmt.Errorf("read password: %w", err)
			}
			return string(b), nil
		}
		return "", usageErrorf("login: no terminal to ask for the password: pass it on stdin with --password-stdin")
	}
	if app.Stdin == nil {
		return "", usageErrorf("login: --password-stdin: no stdin")
	}
	line, err := bufio.NewReader(app.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usageErrorf("login: --password-stdin: %v", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func newLogoutCmd(app *App) *cobra.Command {
	return command("logout SERVER_URL", "Forget the token kept for a team server", "  gyre logout https://gyre.example.com", cobra.ExactArgs(1),
		func(cmd *cobra.Command, args []string) error {
			base := strings.TrimRight(args[0], "/")
			ls, err := apiclient.LoadLogins()
			if err != nil {
				return err
			}
			if _, ok := ls.Servers[base]; !ok {
				return usageErrorf("logout: no token kept for %s", base)
			}
			delete(ls.Servers, base)
			if err := ls.Save(); err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "forgot the token for %s (it stays valid on the server until revoked: gyre tokens revoke)\n", base)
			return nil
		})
}

func newWhoamiCmd(app *App) *cobra.Command {
	return command("whoami", "Show who the team server knows you as, and your roles", "  gyre whoami --server https://gyre.example.com", cobra.NoArgs,
		func(cmd *cobra.Command, _ []string) error {
			if app.serverURL() == "" {
				return usageErrorf("whoami: no team server: give --server URL or set GYRE_SERVER")
			}
			c, err := app.client()
			if err != nil {
				return err
			}
			who, err := c.Whoami(cmd.Context())
			if err != nil {
				return err
			}
			if app.JSON {
				return app.printJSON(who)
			}
			fmt.Fprintf(app.Stdout, "%s on %s: %s server-wide\n", who.Name, c, who.Role)
			for r, role := range who.Grants {
				fmt.Fprintf(app.Stdout, "  %s on %s\n", role, r)
			}
			return nil
		})
}
