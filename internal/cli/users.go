package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/access"
	"github.com/gyre-ml/gyre/internal/web"
)

func init() {
	register(newUsersCmd)
	register(newTokensCmd)
	register(newGrantCmd)
	register(newRevokeCmd)
}

// adminError keeps input errors (unknown account, bad name or role) at
// exit code 2.
func adminError(err error) error {
	for _, e := range []error{access.ErrNotFound, access.ErrExists, access.ErrInvalid, access.ErrInvalidRole, access.ErrUnauthenticated, access.ErrForbidden} {
		if errors.Is(err, e) {
			return err
		}
	}
	return storeError(err)
}

func (a *App) withAdmin(fn func(cmd *cobra.Command, args []string, ad admin) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		b, err := a.openBackend(cmd.Context())
		if err != nil {
			return err
		}
		defer b.Close()
		return adminError(fn(cmd, args, b.Accounts))
	}
}

func newUsersCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage the team server's users and service accounts",
		Long: `Accounts of the team server. Against a server (--server, GYRE_SERVER) these
need the admin role; without one they change the local store directly (for
the machine that holds it, e.g. to recover a lost admin token).`,
		Example: `  gyre users create bob --role editor
  gyre users create ci --service --role editor
  gyre users list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var kindService bool
	var role string
	var pwStdin bool
	create := command("create NAME", "Create a user (or with --service a service account)", "  gyre users create bob --role editor\n  echo 'a long password' | gyre users create bob --password-stdin", cobra.ExactArgs(1),
		app.withAdmin(func(cmd *cobra.Command, args []string, ad admin) error {
			req := web.CreateAccountRequest{Name: args[0], Kind: "user", Role: role}
			if kindService {
				req.Kind = "service"
			}
			if pwStdin {
				pw, err := readPassword(app, true)
				if err != nil {
					return err
				}
				req.Password = pw
			}
			a, err := ad.CreateAccount(cmd.Context(), req)
			if err != nil {
				return err
			}
			return app.done(a, "created %s %s; make it a token: gyre tokens create %s", a.Kind, a.Name, a.Name)
		}))
	create.Flags().BoolVar(&kindService, "service", false, "a service account (tokens only, no password)")
	create.Flags().StringVar(&role, "role", "", "grant this role server-wide: viewer, editor or admin")
	create.Flags().BoolVar(&pwStdin, "password-stdin", false, "read a password from stdin (users only)")
	list := command("list", "List accounts and their roles", "  gyre users list", cobra.NoArgs,
		app.withAdmin(func(cmd *cobra.Command, _ []string, ad admin) error {
			as, err := ad.Accounts(cmd.Context())
			if err != nil {
				return err
			}
			if app.JSON {
				return app.printJSON(as)
			}
			return access.WriteAccounts(app.Stdout, as)
		}))
	del := command("delete NAME", "Delete an account with its tokens and grants", "  gyre users delete bob", cobra.ExactArgs(1),
		app.withAdmin(func(cmd *cobra.Command, args []string, ad admin) error {
			if err := ad.DeleteAccount(cmd.Context(), args[0]); err != nil {
				return err
			}
			return app.done(map[string]string{"deleted": args[0]}, "deleted %s", args[0])
		}))
	passwd := command("password NAME", "Set a user's password from stdin (an empty line removes it)", "  echo 'a long password' | gyre users password bob", cobra.ExactArgs(1),
		app.withAdmin(func(cmd *cobra.Command, args []string, ad admin) error {
			pw, err := readPassword(app, true)
			if err != nil {
				return err
			}
			if err := ad.SetPassword(cmd.Context(), args[0], pw); err != nil {
				return err
			}
			return app.done(map[string]any{"account": args[0], "password": pw != ""}, "password of %s set", args[0])
		}))
	cmd.AddCommand(create, list, del, passwd)
	return cmd
}

func newTokensCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tokens",
		Short: "Make, list and revoke API tokens",
		Long: `API tokens authenticate to the team server (Authorization: Bearer TOKEN, or
MLFLOW_TRACKING_TOKEN for MLflow clients). A token is shown once when made;
the server keeps only its hash.`,
		Example: `  gyre tokens create ci --description "CI pipeline" --expires-in 90d
  gyre tokens list ci
  gyre tokens revoke 3f2a9c1b0d4e`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var desc, expiresIn string
	create := command("create ACCOUNT", "Make a token for an account and print it once", "  gyre tokens create ci --description CI --expires-in 90d", cobra.ExactArgs(1),
		app.withAdmin(func(cmd *cobra.Command, args []string, ad admin) error {
			if expiresIn != "" {
				if _, err := web.ParseAge(expiresIn); err != nil {
					return usageErrorf("--expires-in: %v", err)
				}
			}
			t, err := ad.CreateToken(cmd.Context(), args[0], web.CreateTokenRequest{Description: desc, ExpiresIn: expiresIn})
			if err != nil {
				return err
			}
			if app.JSON {
				return app.printJSON(t)
			}
			exp := "never expires"
			if t.Info.Expires != nil {
				exp = "expires " + t.Info.Expires.Local().Format(time.RFC3339)
			}
			fmt.Fprintf(app.Stdout, "token %s for %s (%s); shown once, keep it safe:\n%s\n", t.Info.ID, args[0], exp, t.Token)
			return nil
		}))
	create.Flags().StringVar(&desc, "description", "", "what the token is for")
	create.Flags().StringVar(&expiresIn, "expires-in", "", "expire after this age (90d, 12h); default never")
	list := command("list ACCOUNT", "List an account's tokens (never their secrets)", "  gyre tokens list ci", cobra.ExactArgs(1),
		app.withAdmin(func(cmd *cobra.Command, args []string, ad admin) error {
			ts, err := ad.Tokens(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if app.JSON {
				return app.printJSON(ts)
			}
			return access.WriteTokens(app.Stdout, ts, time.Now())
		}))
	revoke := command("revoke TOKEN_ID", "Revoke a token: it stops working at once", "  gyre tokens revoke 3f2a9c1b0d4e", cobra.ExactArgs(1),
		app.withAdmin(func(cmd *cobra.Command, args []string, ad admin) error {
			if err := ad.RevokeToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			return app.done(map[string]string{"revoked": args[0]}, "revoked token %s", args[0])
		}))
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func newGrantCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "grant ACCOUNT ROLE [server|experiment:ID|model:NAME]",
		Short: "Give an account a role, server-wide or on one experiment or model",
		Long: `Roles: viewer reads, editor also writes (runs, versions, aliases), admin also
manages accounts, grants and reads the audit trail. A role on a model or
experiment adds to the server-wide one; a model's admins may grant roles on
that model.`,
		Example: `  gyre grant bob editor
  gyre grant carol editor model:adult-income
  gyre grant ci editor experiment:3`,
		Args: cobra.RangeArgs(2, 3),
		RunE: app.withAdmin(func(cmd *cobra.Command, args []string, ad admin) error {
			role, err := access.ParseRole(args[1])
			if err != nil {
				return usageErrorf("grant: %v", err)
			}
			res := access.ServerResource
			if len(args) == 3 {
				if res, err = access.ParseResource(args[2]); err != nil {
					return usageErrorf("grant: %v", err)
				}
			}
			if err := ad.Grant(cmd.Context(), args[0], res, role); err != nil {
				return err
			}
			return app.done(map[string]string{"account": args[0], "role": role.String(), "resource": res.String()}, "%s is %s on %s", args[0], role, res)
		}),
	}
}

func newRevokeCmd(app *App) *cobra.Command {
	return command("revoke ACCOUNT [server|experiment:ID|model:NAME]", "Take away an account's role on the server or on one experiment or model", "  gyre revoke carol model:adult-income\n  gyre revoke bob", cobra.RangeArgs(1, 2),
		app.withAdmin(func(cmd *cobra.Command, args []string, ad admin) error {
			res := access.ServerResource
			if len(args) == 2 {
				var err error
				if res, err = access.ParseResource(args[1]); err != nil {
					return usageErrorf("revoke: %v", err)
				}
			}
			if err := ad.Revoke(cmd.Context(), args[0], res); err != nil {
				return err
			}
			return app.done(map[string]string{"account": args[0], "revoked": res.String()}, "%s has no role on %s now", args[0], res)
		}))
}
