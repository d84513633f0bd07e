<?php
/**
 * WordPress-like lab stub for wp-includes/interactivity-api/class-wp-interactivity-api.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'interactivity-api/class-wp-interactivity-api.php';
