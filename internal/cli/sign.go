package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gyre-ml/gyre/internal/bundle"
)

// newModelsKeygenCmd writes an Ed25519 key pair for signing bundles.
func newModelsKeygenCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "keygen PREFIX",
		Short: "Write an Ed25519 key pair for signing bundles: PREFIX.key (private, 0600) and PREFIX.pub",
		Example: `  gyre models keygen release
  gyre models sign model.gyre --key release.key
  gyre serve model.gyre --verify-key release.pub`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			priv, pub, err := bundle.WriteKeyPair(args[0])
			if ke := (*bundle.KeyFileError)(nil); errors.As(err, &ke) {
				return usageErrorf("keygen: %v (an existing key is never overwritten)", ke.Err)
			}
			if err != nil {
				return failed(fmt.Errorf("keygen: %w", err))
			}
			return app.done(map[string]string{"private": priv, "public": pub}, "wrote %s (keep it secret) and %s (give it to servers: --verify-key)", priv, pub)
		},
	}
}

// newModelsSignCmd signs a bundle file.
func newModelsSignCmd(app *App) *cobra.Command {
	var key, out string
	cmd := &cobra.Command{
		Use:     "sign BUNDLE --key PRIVATE_KEY",
		Short:   "Sign a bundle (verified first) so servers given the public key accept it",
		Example: `  gyre models sign model.gyre --key release.key`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if key == "" {
				return usageErrorf("sign: --key is required (a private key from 'gyre models keygen')")
			}
			priv, err := bundle.ReadPrivateKey(key)
			if err != nil {
				return usageErrorf("sign: %v", err)
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return usageErrorf("sign: %v", err)
			}
			signed, err := bundle.Sign(data, priv)
			if err != nil {
				return usageErrorf("sign %s: %v", args[0], err)
			}
			if out == "" {
				out = args[0]
			}
			if err := writeFileAtomic(out, func(w io.Writer) error { _, err := w.Write(signed); return err }); err != nil {
				return failed(fmt.Errorf("sign: write %s: %w", out, err))
			}
			b, _ := bundle.Decode(signed)
			return app.done(map[string]string{"bundle": out, "digest": b.Integrity.Digest, "key_id": b.Integrity.KeyID}, "signed %s (key %s, digest %s)", out, b.Integrity.KeyID, short(b.Integrity.Digest))
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "Ed25519 private key file ('gyre models keygen')")
	cmd.Flags().StringVar(&out, "out", "", "write the signed bundle here (default: in place)")
	return cmd
}
