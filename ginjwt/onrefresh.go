package ginjwt

import (
	"context"
	"errors"
	"fmt"
)

// ReasonAccountDisabled is the Reason of the revoke event of a session that
// Options.OnRefresh ended with ErrAccountDisabled.
const ReasonAccountDisabled = "account_disabled"

// refreshIdentity asks Options.OnRefresh, when set, for the subject's
// Identity as of now and puts its roles, scopes and extra claims into
// claims. When the hook disables the account it deletes the session and
// emits e as a revoke event.
func (a *Auth) refreshIdentity(ctx context.Context, claims *Claims, e Event) error {
	if a.opts.OnRefresh == nil {
		return nil
	}
	id, err := a.opts.OnRefresh(ctx, claims)
	switch {
	case errors.Is(err, ErrAccountDisabled):
		if err := a.opts.Store.DeleteSession(ctx, claims.Subject, claims.SessionID); err != nil {
			return storeError(err)
		}
		e.Kind, e.Reason = EventRevoke, ReasonAccountDisabled
		a.emit(e)
		return ErrAccountDisabled
	case err != nil:
		return fmt.Errorf("%w: OnRefresh: %w", ErrServer, err)
	case id.Subject != claims.Subject:
		return fmt.Errorf("%w: OnRefresh returned another subject", ErrServer)
	}
	fresh, err := a.sessionClaims(id)
	if err != nil {
		return err
	}
	claims.Roles, claims.Scope, claims.Extra = fresh.Roles, fresh.Scope, fresh.Extra
	return nil
}
