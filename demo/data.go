package demo

// The embedded reference lists the generator draws from. Every name, street
// and business here is made up; phone numbers use the 555-01xx range that
// North American numbering reserves for fiction.

// firstNames mixes origins and generations on purpose: the demo bank's
// customers should look like a real US customer base.
var firstNames = []string{
	"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
	"William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Karen", "Charles", "Sarah",
	"Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Margaret", "Donald", "Sandra", "Mark", "Ashley",
	"Maria", "José", "Carmen", "Luis", "Ana", "Carlos", "Sofía", "Miguel", "Lucía", "Jorge",
	"Wei", "Mei", "Hiroshi", "Yuki", "Min-jun", "Ji-woo", "Priya", "Arjun", "Ananya", "Rahul",
	"Aisha", "Omar", "Fatima", "Yusuf", "Layla", "Hassan", "Amara", "Kwame", "Chinwe", "Tunde",
	"DeShawn", "Keisha", "Malik", "Imani", "Jamal", "Tanisha", "Andre", "Ebony", "Darius", "Aaliyah",
	"Huong", "Linh", "Thanh", "Mai", "Olga", "Dmitri", "Anya", "Ivan", "Zoë", "Noah",
	"Liam", "Emma", "Olivia", "Ava", "Ethan", "Mia", "Lucas", "Harper", "Mason", "Evelyn",
	"Dorothy", "Harold", "Shirley", "Walter", "Gloria", "Eugene", "Joan", "Ralph", "Rosa", "Frank",
	"Sam", "Alex", "Jordan", "Taylor", "Riley", "Casey", "Avery", "Quinn", "Rowan", "Skyler",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
	"Chen", "Wang", "Kim", "Park", "Patel", "Shah", "Singh", "Tanaka", "Yamamoto", "Okafor",
	"Mensah", "Abdullah", "Haddad", "Cohen", "Schwartz", "Kowalski", "Novak", "Ivanova", "O'Brien", "Murphy",
	"Sullivan", "Begay", "Yazzie", "Tsosie", "Kealoha", "Fitzgerald", "Brooks", "Washington", "Jefferson", "Coleman",
	"Díaz", "Peña", "Muñoz", "Castillo", "Morales", "Gutiérrez", "Reyes", "Cruz", "Ortiz", "Vargas",
	"Bianchi", "Rossi", "Müller", "Schmidt", "Larsen", "Andersson", "Dubois", "Moreau", "Silva", "Santos",
}

// asciiFold maps the accented letters of the name lists to ASCII, for emails.
var asciiFold = map[rune]string{
	'á': "a", 'é': "e", 'í': "i", 'ó': "o", 'ú': "u", 'ñ': "n", 'ë': "e", 'ü': "u", 'ç': "c",
	'Á': "a", 'É': "e", 'Í': "i", 'Ó': "o", 'Ú': "u", 'Ñ': "n", 'Ü': "u",
}

// place is a city with a few real ZIP codes, its area code and its UTC
// offset (standard time), so that purchases happen at local hours.
type place struct {
	City, State string
	ZIPs        []string
	AreaCode    string
	UTCOffset   int // hours west of UTC
}

var places = []place{
	{"Springfield", "IL", []string{"62701", "62702", "62704"}, "217", 6},
	{"Columbus", "OH", []string{"43201", "43205", "43215"}, "614", 5},
	{"Portland", "OR", []string{"97201", "97205", "97214"}, "503", 8},
	{"Austin", "TX", []string{"78701", "78704", "78745"}, "512", 6},
	{"Tampa", "FL", []string{"33602", "33606", "33611"}, "813", 5},
	{"Sarasota", "FL", []string{"34231", "34236", "34239"}, "941", 5},
	{"Phoenix", "AZ", []string{"85004", "85016", "85018"}, "602", 7},
	{"Tucson", "AZ", []string{"85701", "85716", "85719"}, "520", 7},
	{"Denver", "CO", []string{"80202", "80206", "80220"}, "303", 7},
	{"Raleigh", "NC", []string{"27601", "27605", "27612"}, "919", 5},
	{"Richmond", "VA", []string{"23219", "23220", "23226"}, "804", 5},
	{"Pittsburgh", "PA", []string{"15213", "15217", "15222"}, "412", 5},
	{"Albany", "NY", []string{"12203", "12206", "12208"}, "518", 5},
	{"Brooklyn", "NY", []string{"11201", "11215", "11238"}, "718", 5},
	{"Hartford", "CT", []string{"06103", "06105", "06106"}, "860", 5},
	{"Boston", "MA", []string{"02108", "02116", "02130"}, "617", 5},
	{"Madison", "WI", []string{"53703", "53704", "53711"}, "608", 6},
	{"Minneapolis", "MN", []string{"55401", "55405", "55408"}, "612", 6},
	{"Omaha", "NE", []string{"68102", "68106", "68132"}, "402", 6},
	{"Kansas City", "MO", []string{"64105", "64111", "64113"}, "816", 6},
	{"Nashville", "TN", []string{"37203", "37206", "37212"}, "615", 6},
	{"Atlanta", "GA", []string{"30303", "30306", "30318"}, "404", 5},
	{"San Diego", "CA", []string{"92101", "92103", "92116"}, "619", 8},
	{"Sacramento", "CA", []string{"95814", "95816", "95819"}, "916", 8},
	{"Seattle", "WA", []string{"98101", "98103", "98115"}, "206", 8},
	{"Boise", "ID", []string{"83702", "83704", "83706"}, "208", 7},
	{"Albuquerque", "NM", []string{"87102", "87106", "87110"}, "505", 7},
	{"Honolulu", "HI", []string{"96813", "96815", "96822"}, "808", 10},
	{"Anchorage", "AK", []string{"99501", "99503", "99508"}, "907", 9},
	{"Louisville", "KY", []string{"40202", "40204", "40206"}, "502", 5},
}

var streets = []string{
	"Oak", "Maple", "Cedar", "Pine", "Elm", "Willow", "Lakeview", "Hillcrest", "Sunset", "Park",
	"Washington", "Lincoln", "Jefferson", "Franklin", "Highland", "Meadow", "River", "Church", "Mill", "Spring",
	"Chestnut", "Magnolia", "Walnut", "Dogwood", "Juniper", "Harbor", "Prairie", "Valley", "Ridge", "Orchard",
}

var streetSuffixes = []string{"St", "Ave", "Rd", "Ln", "Dr", "Ct", "Blvd", "Way", "Pl", "Ter"}

// employers pay salaries. Retirees are paid by the two pension payers.
var employers = []string{
	"Northwind Health", "Contoso Logistics", "Bluebird Schools District", "Riverbend Manufacturing",
	"Summit Software Inc", "Lakeside County Government", "Evergreen Grocers", "Pioneer Insurance Group",
	"Cascade Dental Partners", "Harborview Hospital", "Keystone Construction", "Meridian Hotels",
	"Fairway Auto Group", "Brightpath Credit Union", "Copperline Energy", "Atlas Freight Lines",
}

const (
	socialSecurity = "SSA TREAS 310 SOC SEC"
	pensionPayer   = "State Retirement System PENSION"
)

// Relations are payee nicknames that are not first names.
var relationsYoung = []string{"roommate", "landlord", "mom", "dad", "sis", "bro", "babysitter", "coach", "book club", "neighbor"}
var relationsOld = []string{"daughter", "son", "grandson", "granddaughter", "church", "neighbor", "sis", "bridge club", "gardener", "landlord"}

// p2pMemos are what friends and family pay each other for.
var p2pMemos = []string{"dinner", "rent share", "birthday", "groceries", "concert tickets", "gas money", "thanks!", "utilities split", "gift", "lunch"}

// category is a spending category with its ISO 18245 merchant category code
// in the merchant list, how much is spent there (log-normal around Median
// cents) and at which local hours.
type category struct {
	Name   string
	Median float64 // cents
	Sigma  float64
	Hours  [][2]int // local [start, end) hours a purchase falls in
}

// The categories of card spending, by name. Bills and subscriptions have
// their own lists below.
var categories = map[string]category{
	"groceries":        {"groceries", 6200, 0.65, [][2]int{{8, 12}, {16, 21}}},
	"restaurants":      {"restaurants", 4600, 0.5, [][2]int{{11, 14}, {18, 22}}},
	"fast_food":        {"fast_food", 1250, 0.4, [][2]int{{11, 14}, {17, 21}}},
	"coffee":           {"coffee", 640, 0.3, [][2]int{{6, 11}}},
	"fuel":             {"fuel", 4700, 0.35, [][2]int{{7, 20}}},
	"pharmacy":         {"pharmacy", 2300, 0.7, [][2]int{{9, 19}}},
	"department_store": {"department_store", 6500, 0.7, [][2]int{{10, 20}}},
	"online_retail":    {"online_retail", 3800, 0.8, [][2]int{{7, 24}}},
	"rideshare":        {"rideshare", 1900, 0.5, [][2]int{{7, 10}, {17, 24}}},
	"transit":          {"transit", 275, 0.1, [][2]int{{6, 10}, {16, 19}}},
	"food_delivery":    {"food_delivery", 3300, 0.4, [][2]int{{18, 23}}},
	"travel_air":       {"travel_air", 31000, 0.45, [][2]int{{8, 22}}},
	"lodging":          {"lodging", 21000, 0.4, [][2]int{{14, 22}}},
	"medical":          {"medical", 4000, 0.6, [][2]int{{8, 17}}},
	"home_improvement": {"home_improvement", 5200, 0.8, [][2]int{{8, 18}}},
	"electronics":      {"electronics", 11000, 0.8, [][2]int{{10, 20}}},
	"clothing":         {"clothing", 5800, 0.6, [][2]int{{10, 20}}},
	"entertainment":    {"entertainment", 2900, 0.35, [][2]int{{13, 23}}},
	"pets":             {"pets", 4200, 0.5, [][2]int{{9, 19}}},
	"books":            {"books", 1900, 0.45, [][2]int{{10, 20}}},
	"personal_care":    {"personal_care", 4500, 0.45, [][2]int{{9, 19}}},
	"convenience":      {"convenience", 900, 0.5, [][2]int{{6, 23}}},
}

// merchantSeed is a merchant the demo creates, with its ISO 18245 MCC.
type merchantSeed struct {
	Name, MCC, Category string
	Place               int // index in places
}

// merchantSeeds are the demo's merchants: fictional names, correct codes.
var merchantSeeds = []merchantSeed{
	// 5411 Grocery Stores, Supermarkets
	{"Greenleaf Market", "5411", "groceries", 2},
	{"FreshWay Supermarket", "5411", "groceries", 1},
	{"Sunrise Foods", "5411", "groceries", 4},
	{"Corner Harvest Grocery", "5411", "groceries", 13},
	{"ValuMart Groceries", "5411", "groceries", 3},
	// 5812 Eating Places and Restaurants
	{"The Copper Kettle", "5812", "restaurants", 11},
	{"Casa Lupita", "5812", "restaurants", 3},
	{"Golden Lotus Bistro", "5812", "restaurants", 24},
	{"Bella Notte Trattoria", "5812", "restaurants", 15},
	{"Magnolia Diner", "5812", "restaurants", 20},
	// 5814 Fast Food Restaurants (also coffee counters and delivery apps)
	{"Burger Barn", "5814", "fast_food", 1},
	{"Taco Rapido", "5814", "fast_food", 6},
	{"Crispy Coop Chicken", "5814", "fast_food", 21},
	{"Harbor Coffee Co.", "5814", "coffee", 24},
	{"Daily Grind Espresso", "5814", "coffee", 2},
	{"Morning Bell Bakery & Coffee", "5814", "coffee", 16},
	{"DashDine Delivery", "5814", "food_delivery", 22},
	{"QuickPlate Delivery", "5814", "food_delivery", 13},
	// 5541 Service Stations / 5542 Automated Fuel Dispensers
	{"Route 9 Gas & Go", "5541", "fuel", 12},
	{"PetroPlus Fuel", "5542", "fuel", 3},
	{"Prairie Fuel Stop", "5542", "fuel", 18},
	// 5912 Drug Stores and Pharmacies
	{"CareWell Pharmacy", "5912", "pharmacy", 5},
	{"Main Street Drug", "5912", "pharmacy", 0},
	{"HealthFirst Rx", "5912", "pharmacy", 9},
	// 5311 Department Stores / 5310 Discount Stores
	{"Hamilton's Department Store", "5311", "department_store", 14},
	{"Bargain Barn", "5310", "department_store", 19},
	// 5942 Book Stores / 5999 Miscellaneous and Specialty Retail
	{"Page Turner Books", "5942", "books", 16},
	{"ShopSphere Online", "5999", "online_retail", 24},
	{"ParcelPal Marketplace", "5999", "online_retail", 3},
	// 4121 Taxicabs/Limousines (rideshare) / 4111 Local Commuter Transport
	{"ZipRide", "4121", "rideshare", 22},
	{"Metro Cab Co.", "4121", "rideshare", 13},
	{"City Transit Authority", "4111", "transit", 13},
	{"Bay Area Commuter Rail", "4111", "transit", 23},
	// 4511 Airlines / 7011 Hotels, Motels, Resorts
	{"SkyBridge Airlines", "4511", "travel_air", 8},
	{"Coastal Air", "4511", "travel_air", 4},
	{"Lakeshore Inn & Suites", "7011", "lodging", 17},
	{"Palm Grove Resort", "7011", "lodging", 27},
	// 8011 Doctors / 8021 Dentists
	{"Riverside Family Medicine", "8011", "medical", 9},
	{"Bright Smile Dental", "8021", "medical", 10},
	// 5200 Home Supply Warehouse Stores
	{"BuildRight Home Center", "5200", "home_improvement", 6},
	// 5732 Electronics Stores
	{"Circuit Town Electronics", "5732", "electronics", 25},
	// 5651 Family Clothing Stores
	{"Thread & Co.", "5651", "clothing", 2},
	{"Weekend Outfitters", "5651", "clothing", 8},
	// 7832 Motion Picture Theaters
	{"Starlight Cinemas", "7832", "entertainment", 20},
	// 5995 Pet Shops, Pet Food and Supplies
	{"Happy Paws Pet Supply", "5995", "pets", 11},
	// 7230 Beauty and Barber Shops
	{"Clip Joint Barbers", "7230", "personal_care", 21},
	{"Glow Salon", "7230", "personal_care", 5},
	// 5499 Miscellaneous Food Stores, Convenience Stores
	{"QuickStop Market", "5499", "convenience", 7},
	{"24/7 Corner Store", "5499", "convenience", 12},
	// Bills: 4900 Utilities / 4814 Telecommunication / 4899 Cable and Pay TV / 6300 Insurance
	{"Metro Power & Light", "4900", "utilities", 1},
	{"Valley Gas & Electric", "4900", "utilities", 23},
	{"City Water Department", "4900", "utilities", 0},
	{"ConnectWave Wireless", "4814", "telecom", 24},
	{"FiberNet Internet", "4814", "telecom", 8},
	{"StarView Cable", "4899", "telecom", 3},
	{"Guardian Mutual Insurance", "6300", "insurance", 17},
	{"Shield Auto Insurance", "6300", "insurance", 10},
	// Subscriptions: 5815 Digital Goods Media / 7997 Membership Clubs (gyms)
	{"StreamFlix", "5815", "streaming", 22},
	{"TuneBox Music", "5815", "streaming", 24},
	{"PageCloud eBooks", "5815", "streaming", 15},
	{"IronWorks Fitness Club", "7997", "fitness", 3},
}
