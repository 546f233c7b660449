package consent

// Cluster is an FDX data cluster: a named group of data a partner may ask
// for, and the unit a customer consents to per account. The names are
// FDX's (Financial Data Exchange, "Data Clusters"), so partners built for
// FDX understand them unchanged.
type Cluster string

// The data clusters the bank can share. TRANSFERS is not data but the right
// to start payments; it is consented to in the same way.
const (
	AccountBasic     Cluster = "ACCOUNT_BASIC"
	AccountDetailed  Cluster = "ACCOUNT_DETAILED"
	Balances         Cluster = "BALANCES"
	Transactions     Cluster = "TRANSACTIONS"
	Statements       Cluster = "STATEMENTS"
	PaymentSupport   Cluster = "PAYMENT_SUPPORT"
	CustomerContact  Cluster = "CUSTOMER_CONTACT"
	CustomerPersonal Cluster = "CUSTOMER_PERSONAL"
	Transfers        Cluster = "TRANSFERS"
)

// ClusterInfo says in plain words what a cluster is and shows an example of
// what it reveals: the consent screen prints both.
type ClusterInfo struct {
	Cluster Cluster
	Title   string // short, for headings: "Balances"
	Plain   string // one sentence a customer understands
	Example string // what the partner would actually see
}

// Clusters lists every cluster in the order the consent screen shows them.
var Clusters = []ClusterInfo{
	// ACCOUNT_BASIC is FDX's account descriptor (FDX 6.4 AccountDescriptor
	// requires the product name, status and currency beside the id).
	{AccountBasic, "Account names", "The name, type, currency and status of each account you choose, and the last four digits of its number.",
		"Everyday checking, a checking account in US dollars ending 4821, open"},
	{AccountDetailed, "Account details", "When the account was opened and its overdraft or credit limit.",
		"Opened 3 Feb 2021, overdraft limit 500.00 USD"},
	{Balances, "Balances", "The current and available balance of each account you choose, whenever the app asks.",
		"Balance 1,234.50 USD, available 1,100.00 USD"},
	{Transactions, "Transactions", "Every payment in and out of the account: date, amount, description and who it was with, as far back as the look-back period.",
		"12 Mar, -42.10 USD, Corner Grocery"},
	{Statements, "Statements", "Your monthly account statements.",
		"Statement for February 2026"},
	{PaymentSupport, "Account and routing numbers", "The full account number and the bank's routing number, which are enough to set up payments into or out of the account.",
		"Account 1000004821, routing 011000015"},
	{CustomerContact, "Contact details", "Your name, email address, phone number and postal address.",
		"Ada Lovelace, ada@example.com, +1 555 010 0001, 1 Main St, Springfield"},
	{CustomerPersonal, "Personal details", "Personal facts about you held by the bank, such as your year of birth.",
		"Born in 1985"},
	{Transfers, "Payments you start", "The app may ask the bank to move money from the account; each payment still follows your limits and security checks.",
		"Pay 20.00 USD to Sam from Everyday checking"},
}

var clusterIndex = func() map[Cluster]int {
	m := make(map[Cluster]int, len(Clusters))
	for i, c := range Clusters {
		m[c.Cluster] = i
	}
	return m
}()

// Valid reports whether c is a cluster the bank knows.
func (c Cluster) Valid() bool { _, ok := clusterIndex[c]; return ok }

// Info returns the plain-words description of c; the zero ClusterInfo for
// an unknown cluster.
func (c Cluster) Info() ClusterInfo {
	if i, ok := clusterIndex[c]; ok {
		return Clusters[i]
	}
	return ClusterInfo{}
}

// order returns c's position in Clusters, for sorting.
func (c Cluster) order() int {
	if i, ok := clusterIndex[c]; ok {
		return i
	}
	return len(Clusters)
}
