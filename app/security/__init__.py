"""Keys, tokens' signatures and personal-data encryption."""
