<?php
/**
 * WordPress-like lab stub for wp-includes/update.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'update.php';
