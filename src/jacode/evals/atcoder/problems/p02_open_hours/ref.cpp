#include <bits/stdc++.h>
using namespace std;

int main() {
    int s, t, x;
    cin >> s >> t >> x;
    // Hours since opening, modulo 24; open iff it is before the length of the opening period.
    int since = ((x - s) % 24 + 24) % 24;
    int length = ((t - s) % 24 + 24) % 24;
    cout << (since < length ? "Yes" : "No") << "\n";
    return 0;
}
