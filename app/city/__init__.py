"""The city itself: districts, departments and the clouds they run."""
