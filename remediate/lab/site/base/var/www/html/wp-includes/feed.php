<?php
/**
 * WordPress-like lab stub for wp-includes/feed.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'feed.php';
