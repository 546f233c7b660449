package main

import (
	"context"
	"path/filepath"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/keyring"
)

// signerOptions are the disclosure log's options for an instance that
// writes and seals: the keyring's signing and MAC keys, and the signer's
// memory of its last head in the data folder, beside the key file
// (docs/audit.md, "Heads that outlive the database").
func signerOptions(c *Config, r *keyring.Ring) audit.Options {
	return audit.Options{Keys: auditKeys{r}, MACs: auditMACs{r}, Memory: headMemory(c)}
}

// headMemory is the signer's memory of this data folder.
func headMemory(c *Config) *audit.FileMemory {
	return &audit.FileMemory{Path: filepath.Join(c.Data, audit.HeadFile)}
}

// auditMACs gives the disclosure log the keyring's audit-mac keys.
type auditMACs struct{ r *keyring.Ring }

var _ audit.MACKeys = auditMACs{}

func (m auditMACs) MACKey(ctx context.Context) (audit.MACKey, error) {
	k, err := m.r.Active(ctx, keyring.AuditMAC)
	if err != nil {
		return nil, err
	}
	return keyring.AuditMACKey(k)
}

// MACKeys is every audit-mac key, retired ones included: they tagged
// records that must still verify.
func (m auditMACs) MACKeys(ctx context.Context) ([]audit.MACKey, error) {
	keys, err := m.r.Keys(ctx, keyring.AuditMAC)
	if err != nil {
		return nil, err
	}
	out := make([]audit.MACKey, 0, len(keys))
	for _, k := range keys {
		mk, err := keyring.AuditMACKey(k)
		if err != nil {
			return nil, err
		}
		out = append(out, mk)
	}
	return out, nil
}
