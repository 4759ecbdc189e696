"""Free public Wi-Fi (无线城市): gateways now; the captive portal and RADIUS arrive with the Wi-Fi issue."""
