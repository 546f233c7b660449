package web

import (
	"net/http"

	"github.com/bankbridge/bankbridge/identity"
)

// Roles that may use the console, and the subset that may freeze accounts.
var (
	viewRoles   = []identity.Role{identity.Administrator, identity.Support, identity.Compliance, identity.Analyst}
	freezeRoles = []identity.Role{identity.Administrator, identity.Support}
)

// routes is the one map of the app. Everything passes through secure (headers,
// request id, recover) and crossOrigin (the Origin/Sec-Fetch-Site check);
// customer and staff pages add their session and CSRF checks.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", s.static())
	mux.HandleFunc("GET /{$}", s.home)

	mux.HandleFunc("GET /login", s.loginForm(identity.RealmCustomer))
	mux.HandleFunc("POST /login", s.loginSubmit(identity.RealmCustomer))
	mux.Handle("POST /logout", s.customer(s.logout))
	mux.HandleFunc("GET /language", s.setLanguage)
	mux.HandleFunc("POST /security/language", s.setLanguage)
	mux.HandleFunc("GET /password/forgot", s.forgotForm)
	mux.HandleFunc("POST /password/forgot", s.forgotSubmit)
	mux.HandleFunc("GET /password/reset", s.resetForm)
	mux.HandleFunc("POST /password/reset", s.resetSubmit)
	mux.Handle("GET /accounts", s.customer(s.accounts))
	mux.Handle("GET /accounts/{id}", s.customer(s.account))
	mux.Handle("GET /accounts/{id}/transactions/{tx}", s.customer(s.transaction))
	mux.Handle("GET /accounts/{id}/statements", s.customer(s.statements))
	mux.Handle("GET /accounts/{id}/statements/{file}", s.customer(s.statementFile))
	mux.Handle("GET /transfer", s.customer(s.transferForm))
	mux.Handle("POST /transfer", s.customer(s.transferReview))
	mux.Handle("POST /transfer/confirm", s.customer(s.transferConfirm))
	mux.Handle("GET /transfer/receipt/{id}", s.customer(s.receipt))
	mux.Handle("GET /security", s.customer(s.security))
	mux.Handle("POST /security/totp", s.customer(s.totpBegin))
	mux.Handle("POST /security/totp/confirm", s.customer(s.totpConfirm))
	mux.Handle("POST /security/password", s.customer(s.passwordChange))
	mux.Handle("POST /security/time-zone", s.customer(s.setTimeZone))
	mux.HandleFunc("GET /consent", s.consentPage)
	mux.Handle("POST /consent", s.customer(s.consentDecide))
	mux.Handle("GET /connected", s.customer(s.connected))
	mux.Handle("POST /connected/{id}/revoke", s.customer(s.connectedRevoke))
	mux.Handle("POST /connected/{id}/renew", s.customer(s.connectedRenew))
	mux.Handle("GET /privacy/disclosures", s.customer(s.disclosures))
	mux.Handle("GET /privacy/disclosures.csv", s.customer(s.disclosuresExport("csv")))
	mux.Handle("GET /privacy/disclosures.json", s.customer(s.disclosuresExport("json")))
	mux.HandleFunc("GET /payments/confirm/{id}", s.paymentConfirmPage)
	mux.Handle("POST /payments/confirm/{id}", s.customer(s.paymentDecide))
	mux.Handle("GET /notifications", s.customer(s.notifications))
	mux.Handle("POST /notifications/read", s.customer(s.notificationsRead))
	mux.Handle("POST /notifications/settings", s.customer(s.notificationSettings))
	mux.Handle("POST /notifications/{id}/answer", s.customer(s.notificationAnswer))
	mux.Handle("GET /cards", s.customer(s.cards))
	mux.Handle("GET /cards/{id}/{action}", s.customer(s.cardConfirm))
	mux.Handle("POST /cards/{id}/{action}", s.customer(s.cardDo))
	mux.Handle("GET /cases", s.customer(s.customerCases))
	mux.Handle("GET /cases/{id}", s.customer(s.customerCase))
	mux.Handle("POST /cases/{id}/notes", s.customer(s.customerCaseNote))
	mux.Handle("GET /disputes/new", s.customer(s.disputeForm))
	mux.Handle("POST /disputes", s.customer(s.disputeOpen))

	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /console/login", s.loginForm(identity.RealmStaff))
	mux.HandleFunc("POST /console/login", s.loginSubmit(identity.RealmStaff))
	mux.Handle("POST /console/logout", s.staff(nil, s.logout))
	mux.Handle("GET /console/{$}", s.staff(viewRoles, s.dashboard))
	mux.Handle("GET /console/customers", s.staff(customerRoles, s.lookup))
	mux.Handle("GET /console/customers/{id}", s.staff(customerRoles, s.consoleCustomer))
	mux.Handle("GET /console/accounts/{id}/status", s.staff(freezeRoles, s.statusConfirm))
	mux.Handle("POST /console/accounts/{id}/status", s.staff(freezeRoles, s.setStatus))
	mux.Handle("GET /console/customers/{id}/consents", s.staff(customerRoles, s.consoleConsents))
	mux.Handle("POST /console/consents/{id}/revoke", s.staff(revokeRoles, s.consoleRevoke))
	mux.Handle("GET /console/audit", s.staff(auditRoles, s.consoleAudit))
	mux.Handle("GET /console/audit.csv", s.staff(auditRoles, s.consoleAuditExport("csv")))
	mux.Handle("GET /console/audit.json", s.staff(auditRoles, s.consoleAuditExport("json")))
	mux.Handle("GET /console/performance", s.staff(performanceRoles, s.consolePerformance))
	mux.Handle("GET /console/performance.csv", s.staff(performanceRoles, s.consolePerformanceCSV))
	mux.Handle("GET /console/insights", s.staff(insightRoles, s.insightsPage))
	mux.Handle("GET /console/alerts", s.staff(fraudRoles, s.consoleAlerts))
	mux.Handle("GET /console/logins", s.staff(loginRoles, s.consoleLogins))
	mux.Handle("POST /console/alerts/cases/{id}/close", s.staff(fraudRoles, s.consoleCloseCase))
	mux.Handle("POST /console/alerts/dead/{id}/requeue", s.staff(fraudRoles, s.consoleRequeue))
	mux.Handle("GET /console/cases", s.staff(caseRoles, s.consoleCases))
	mux.Handle("GET /console/cases/{id}", s.staff(caseRoles, s.consoleCase))
	mux.Handle("POST /console/cases/{id}/{step}", s.staff(caseRoles, s.consoleCaseStep))
	mux.Handle("GET /console/inbox", s.staff(inboxRoles, s.consoleInbox))
	mux.Handle("GET /console/inbox/{platform}/{user}", s.staff(inboxRoles, s.consoleChat))
	mux.Handle("POST /console/inbox/{platform}/{user}/reply", s.staff(inboxRoles, s.consoleChatReply))
	mux.Handle("POST /console/inbox/{platform}/{user}/handback", s.staff(inboxRoles, s.consoleChatHandBack))
	mux.Handle("POST /console/inbox/{platform}/{user}/take", s.staff(inboxRoles, s.consoleChatTake))
	mux.Handle("GET /console/insights.csv", s.staff(insightRoles, s.insightsCSV))
	mux.Handle("GET /console/partners", s.staff(partnerViewRoles, s.consolePartners))
	mux.Handle("POST /console/partners", s.staff(partnerAdminRoles, s.consoleRegisterPartner))
	mux.Handle("GET /console/partners/{id}", s.staff(partnerViewRoles, s.consolePartner))
	mux.Handle("POST /console/partners/{id}/suspend", s.staff(partnerSuspendRoles, s.partnerAction("suspended", PartnerAdmin.SuspendPartner)))
	mux.Handle("POST /console/partners/{id}/reinstate", s.staff(partnerAdminRoles, s.partnerAction("reinstated", PartnerAdmin.ReinstatePartner)))
	mux.Handle("POST /console/partners/{id}/refuse", s.staff(partnerAdminRoles, s.partnerAction("refused", PartnerAdmin.RefusePartner)))
	s.railsRoutes(mux)     // payees at other banks and ACH payments: payees.go
	s.scheduledRoutes(mux) // scheduled and recurring payments: scheduled.go

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.notFound(w, r, nil) })
	return s.secure(s.crossOrigin(mux))
}

// home sends a signed-in customer to their accounts, anyone else to login.
func (s *server) home(w http.ResponseWriter, r *http.Request) {
	v, err := s.session(w, r, identity.RealmCustomer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if v == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/accounts", http.StatusSeeOther)
}
