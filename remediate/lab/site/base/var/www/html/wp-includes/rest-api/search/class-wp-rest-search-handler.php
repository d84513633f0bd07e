<?php
/**
 * WordPress-like lab stub for wp-includes/rest-api/search/class-wp-rest-search-handler.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'rest-api/search/class-wp-rest-search-handler.php';
