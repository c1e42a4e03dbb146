// Package access holds the team server's accounts and permissions: users
// and service accounts, API tokens (only a hash is stored), passwords
// (hashed with a standard KDF), roles granted server-wide, per experiment
// and per registered model, and the check every request passes.
//
// role.go is the contract the rest of the server builds on: [Role]
// (viewer < editor < admin), [Resource], the [Principal] an authenticated
// request carries in its context ([WithPrincipal], [PrincipalFrom]), and
// [Require], which API handlers call before acting. Its errors wrap
// [ErrUnauthenticated] (401) or [ErrForbidden] (403).
//
// Layer 3: it imports sqlstore and audit; the server (layer 5) and the
// API handlers (layer 4) import it.
package access
