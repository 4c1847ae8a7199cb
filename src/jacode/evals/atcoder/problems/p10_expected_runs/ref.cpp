#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    int n;
    cin >> n;
    double expected = 0, prevTails = 1.0;
    for (int i = 0; i < n; i++) {
        int p;
        cin >> p;
        double heads = p / 100.0;
        expected += heads * prevTails;  // a block starts here
        prevTails = 1.0 - heads;
    }
    cout << fixed << setprecision(10) << expected << "\n";
    return 0;
}
